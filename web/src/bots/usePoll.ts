// Run `load` now and every `intervalMs` while the component is mounted (the next run starts after the
// previous one ended, so a slow server never gets a pile of requests); aborted on unmount. The returned
// function runs it again at once (after an action), or right after the run in progress.
import { useEffect, useRef } from "react";

export const POLL_MS = 3000;

export function usePoll(load: (signal: AbortSignal) => Promise<void>, intervalMs = POLL_MS, key: unknown = null): () => void {
  const latest = useRef(load);
  latest.current = load;
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    let running = false;
    let again = false;
    const run = async () => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      window.clearTimeout(timer);
      try {
        await latest.current(controller.signal);
      } finally {
        running = false;
      }
      if (controller.signal.aborted) return;
      if (again) {
        again = false;
        void run();
        return;
      }
      timer = window.setTimeout(() => void run(), intervalMs);
    };
    kick.current = () => void run();
    void run();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [intervalMs, key]);
  return () => kick.current();
}
