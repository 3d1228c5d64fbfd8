/**
 * A small pool of worker threads for the experiments' independent tasks (runs × λ values).
 * A task names an exported function of a module under src/experiments and its input (a
 * structured-clone value); the function runs in a worker and returns a structured-clone
 * value. With one worker, tasks run in this thread, in order, with identical results:
 * every task derives its randomness from its own input, never from the schedule.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

export interface Task {
  /** Module file name under src/experiments, without extension, e.g. "sidFigures". */
  readonly module: string
  /** The exported function to call with `input`. */
  readonly fn: string
  readonly input: unknown
}

export interface PoolOptions {
  /** Number of worker threads (default: available cores); 1 runs in this thread. */
  readonly workers?: number
  /** Called after each task finishes (for progress bars). */
  readonly onDone?: (done: number, total: number) => void
  /**
   * Called when task `index` is about to start; the task it returns (or resolves to) runs
   * instead. Tasks are claimed in index order, so this can attach data loaded on demand (for
   * instance a data split in a SharedArrayBuffer, which reaches a worker without a copy), and
   * a promise can hold a task back until memory is free. An exception or a rejection rejects
   * the run.
   */
  readonly resolve?: (task: Task, index: number) => Task | Promise<Task>
  /** Called once task `index` has finished and its result is stored (to release what `resolve` attached). */
  readonly onSettled?: (index: number) => void
}

const here = import.meta.url
const isSource = here.endsWith('.ts')
const ext = isSource ? '.ts' : '.js'

const callTask = async (task: Task): Promise<unknown> => {
  const mod = (await import(new URL(`./${task.module}${ext}`, here).href)) as Record<string, unknown>
  const f = mod[task.fn]
  if (typeof f !== 'function') throw new Error(`experiment task ${task.module}.${task.fn} is not a function`)
  return await (f as (i: unknown) => unknown)(task.input)
}

/** Default worker count: the machine's cores. */
export const defaultWorkers = (): number => Math.max(1, availableParallelism())

/** Run every task; results come back in task order. */
export const runTasks = async <R>(tasks: ReadonlyArray<Task>, opts: PoolOptions = {}): Promise<R[]> => {
  const workers = Math.max(1, Math.min(opts.workers ?? defaultWorkers(), tasks.length))
  const results: R[] = new Array<R>(tasks.length)
  let done = 0
  if (workers === 1) {
    for (let i = 0; i < tasks.length; i++) {
      const task = opts.resolve === undefined ? tasks[i]! : await opts.resolve(tasks[i]!, i)
      results[i] = (await callTask(task)) as R
      opts.onSettled?.(i)
      opts.onDone?.(++done, tasks.length)
    }
    return results
  }
  const entry = new URL(`./worker${ext}`, here)
  let next = 0
  const runWorker = (): Promise<void> =>
    new Promise<void>((resolvePromise, reject) => {
      // From TypeScript sources (tests, `tsx`), the worker registers tsx's loader before loading its entry.
      const w = isSource
        ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}) })`, { eval: true })
        : new Worker(entry)
      let current = -1
      const fail = (e: unknown) => {
        next = tasks.length // the other workers stop after their current task
        void w.terminate()
        reject(e instanceof Error ? e : new Error(String(e)))
      }
      const feed = () => {
        if (next >= tasks.length) {
          void w.terminate().then(() => resolvePromise())
          return
        }
        current = next++
        const id = current
        try {
          const task = opts.resolve === undefined ? tasks[id]! : opts.resolve(tasks[id]!, id)
          if (task instanceof Promise) task.then((t) => w.postMessage({ id, task: t }), fail)
          else w.postMessage({ id, task })
        } catch (e) {
          fail(e)
        }
      }
      w.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
        if (!m.ok) {
          fail(new Error(m.error ?? 'experiment task failed'))
          return
        }
        results[m.id] = m.value as R
        opts.onSettled?.(m.id)
        opts.onDone?.(++done, tasks.length)
        feed()
      })
      w.on('error', reject)
      w.on('exit', (code) => {
        if (code !== 0 && next <= tasks.length && done < tasks.length && current >= 0 && results[current] === undefined)
          reject(new Error(`experiment worker exited with code ${code}`))
      })
      feed()
    })
  await Promise.all(Array.from({ length: workers }, runWorker))
  return results
}

export { callTask }
