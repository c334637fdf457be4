/**
 * Runs `task` now and then `everyMs` after each run ends (never two at once), skipping runs while
 * the tab is hidden. Errors go to `onError`; the returned function stops it.
 */
export function poll(
  task: () => Promise<void>,
  everyMs: number,
  onError: (err: unknown) => void,
): () => void {
  let stopped = false;
  let timer: number | undefined;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await task();
      } catch (err) {
        if (!stopped) onError(err);
      }
    }
    if (!stopped) timer = window.setTimeout(run, everyMs);
  };
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}
