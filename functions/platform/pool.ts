/**
 * A bounded worker pool: `run` over every task, at most `concurrency` at a
 * time, results in task order. A task that throws rejects the whole call
 * (after the tasks already started settle), so callers that want per-task
 * outcomes catch inside `run`.
 */
export const mapBounded = async <T, R>(tasks: readonly T[], concurrency: number, run: (task: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = new Array<R>(tasks.length);
  // One iterator shared by every worker: each task is taken exactly once.
  const pending = tasks.entries();
  const worker = async (): Promise<void> => {
    for (const [index, task] of pending) results[index] = await run(task, index);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker));
  return results;
};
