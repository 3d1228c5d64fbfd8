/** The command's input and output helpers: reading configs, one-line errors, progress bars. */
import cliProgress from 'cli-progress'
import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { hgError, HypergradException, type HypergradError } from '../errors.js'

/** A user's mistake: printed as one line on stderr, exit code 2, no stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UserError'
  }
}

/** Unwrap an Either for the command, turning Left into a UserError. */
export const must = <A>(e: E.Either<HypergradError, A>): A => {
  if (E.isLeft(e)) throw new UserError(e.left.message)
  return e.right
}

/** Read and parse a JSON file, with errors that name the file. */
export const readJson = (path: string): E.Either<HypergradError, unknown> => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return E.left(hgError('config', `cannot read ${path}${code !== undefined ? ` (${code})` : ''}`))
  }
  try {
    return E.right(JSON.parse(text) as unknown)
  } catch (e) {
    return E.left(hgError('config', `${path} is not valid JSON: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`))
  }
}

/** A progress bar on stderr, silent when stderr is not a terminal or when quiet. */
export interface Progress {
  start(total: number, label: string): void
  update(done: number): void
  stop(): void
}

export const progressBar = (quiet: boolean): Progress => {
  if (quiet || !process.stderr.isTTY) return { start: () => {}, update: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{label} [{bar}] {value}/{total} tasks | {duration_formatted} elapsed | eta {eta_formatted}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  )
  return {
    start: (total, label) => bar.start(total, 0, { label }),
    update: (done) => bar.update(done),
    stop: () => bar.stop(),
  }
}

/** The message of an error thrown by library code, as one line. */
export const oneLine = (e: unknown): string => {
  if (e instanceof UserError) return e.message
  if (e instanceof HypergradException) return e.error.message
  if (e instanceof Error) return e.message.split('\n')[0] ?? e.name
  return String(e)
}
