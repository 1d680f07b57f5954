// The top of every page: its h1 (focus lands here after navigation), a short intro, and actions.
import type { ReactNode, Ref } from "react";

export interface PageHeaderProps {
  title: string;
  intro?: string;
  children?: ReactNode;
  ref?: Ref<HTMLHeadingElement>;
}

export function PageHeader({ title, intro, children, ref }: PageHeaderProps) {
  return (
    <div className="page-header">
      <div>
        <h1 ref={ref} tabIndex={-1} data-testid="page-title">
          {title}
        </h1>
        {intro ? <p className="page-intro">{intro}</p> : null}
      </div>
      {children ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}
