/** The worker-thread side of the experiment pool: run each task it is sent, reply with its value. */
import { parentPort } from 'node:worker_threads'
import { callTask, type Task } from './pool.js'

parentPort?.on('message', (m: { id: number; task: Task }) => {
  callTask(m.task).then(
    (value) => parentPort?.postMessage({ id: m.id, ok: true, value }),
    (e: unknown) => parentPort?.postMessage({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  )
})
