// Focus helpers shared by forms.

/** Move focus to the first field marked aria-invalid inside `root` (after a refused submit). */
export function focusFirstInvalid(root: HTMLElement | null): void {
  root?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
}
