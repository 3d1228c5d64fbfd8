/**
 * Running the `hypergrad` command in tests: in this process through `main` (fast; stdout and
 * stderr captured), or as the real executable in a child process; and a small classification
 * data set with ±1 labels.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { matrix } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { main } from './main.js'

/** What a run of the command gave: its status, what it wrote, and its duration. */
export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly seconds: number
}

/** The command in this process: its status, output and time. */
export const runHere = async (args: ReadonlyArray<string>): Promise<Ran> => {
  let stdout = ''
  let stderr = ''
  const out = process.stdout.write
  const err = process.stderr.write
  process.stdout.write = ((c: string | Uint8Array) => ((stdout += String(c)), true)) as typeof process.stdout.write
  process.stderr.write = ((c: string | Uint8Array) => ((stderr += String(c)), true)) as typeof process.stderr.write
  const t0 = performance.now()
  try {
    const code = await main(args)
    return { code, stdout, stderr, seconds: (performance.now() - t0) / 1000 }
  } finally {
    process.stdout.write = out
    process.stderr.write = err
  }
}

const bin = fileURLToPath(new URL('../../bin/hypergrad.js', import.meta.url))

/** The real executable in a child process (from the sources), optionally as another user. */
export const spawnCommand = (args: ReadonlyArray<string>, opts: { readonly uid?: number; readonly gid?: number } = {}): Promise<Ran> =>
  new Promise((resolve) => {
    const t0 = performance.now()
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, HYPERGRAD_FROM_SOURCE: '1' }, timeout: 120_000, ...opts }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof e.code === 'number' ? e.code : 1
      resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 })
    })
  })

/** n × p standard normal features; labels from a linear model with noise: ±1 ('binary') or the real response ('real'). */
export const dataset = (seed: number, n: number, p: number, labels: 'binary' | 'real' = 'binary') => {
  const [x, r1] = R.normals(R.seed(seed), n * p)
  const [noise] = R.normals(r1, n)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let z = 0
    for (let j = 0; j < p; j++) z += x[i * p + j]! * (j + 1) * 0.3
    y[i] = labels === 'binary' ? (z + noise[i]! > 0 ? 1 : -1) : z + 0.1 * noise[i]!
  }
  return { X: matrix(n, p, x), y }
}
