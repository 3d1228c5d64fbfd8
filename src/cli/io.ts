/**
 * The command's input and output: reading configs (a byte-order mark skipped, size and kind
 * checked first), one-line errors with their exit status, output folders checked before the
 * work, notes and progress bars on stderr.
 */
import { createRequire } from 'node:module'
import * as E from 'fp-ts/lib/Either.js'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatBytes } from '../config/resources.js'
import { showValue } from '../config/show.js'
import { hgError, HypergradException, type HypergradError } from '../errors.js'

/** The exit statuses of the command (docs/errors.md). */
export const EXIT = {
  ok: 0,
  /** A fault of the command itself (a bug): a short message, the stack with --debug. */
  internal: 1,
  /** Bad input: a config, an argument, a data file, an output path, a limit. */
  input: 2,
  /** The method diverged: the result says where, and carries no estimate. */
  diverged: 3,
} as const

/** A user's mistake or a diverged run: printed as one line on stderr, with its exit status, no stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.input,
  ) {
    super(message)
    this.name = 'UserError'
  }
}

/**
 * The exit status of a library error: 3 for a divergence, 1 for a fault (code the library
 * called threw: with the command's own problems and solvers, a bug), 2 for any other kind.
 */
export const exitCodeOf = (e: HypergradError): number => (e.kind === 'divergence' ? EXIT.diverged : e.kind === 'fault' ? EXIT.internal : EXIT.input)

/** Unwrap an Either for the command, turning Left into a UserError with the status of its kind. */
export const must = <A>(e: E.Either<HypergradError, A>): A => {
  if (E.isLeft(e)) throw new UserError(e.left.message, exitCodeOf(e.left))
  return e.right
}

/** The largest config file read (a config is a few hundred bytes; one λ per sample of a large set a few MB). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024

const errnoWords: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EEXIST: 'a file of that name exists',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
}

/** A file-system error as words and its code: "permission denied (EACCES)". */
export const describeFsError = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (code === undefined) return e instanceof Error ? oneLineText(e.message) : 'unknown error'
  return `${errnoWords[code] ?? 'cannot access'} (${code})`
}

/** Read and parse a JSON file, with errors that name the file; a UTF-8 byte-order mark is skipped. */
export const readJson = (path: string): E.Either<HypergradError, unknown> => {
  let text: string
  try {
    const st = statSync(path)
    if (st.isDirectory()) return E.left(hgError('config', `cannot read ${path}: it is a folder, not a config file`))
    if (!st.isFile()) return E.left(hgError('config', `cannot read ${path}: not a regular file`))
    if (st.size > MAX_CONFIG_BYTES) return E.left(hgError('config', `cannot read ${path}: ${formatBytes(st.size)} is more than a config may be (${formatBytes(MAX_CONFIG_BYTES)})`))
    text = readFileSync(path, 'utf8')
  } catch (e) {
    return E.left(hgError('config', `cannot read ${path}: ${describeFsError(e)}`))
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return E.right(JSON.parse(text) as unknown)
  } catch (e) {
    return E.left(hgError('config', `${path} is not valid JSON: ${e instanceof Error ? oneLineText(e.message) : 'a syntax error'}`))
  }
}

/**
 * Make sure `dir` is a folder this process can write to, creating it (and its parents) if
 * missing: before any work, so that a bad output path costs nothing. A file of that name, a
 * path through a file (below /dev/null), or a folder without write permission is a 'config'
 * error naming `option` and the path.
 */
export const prepareOutDir = (dir: string, option = '--out'): E.Either<HypergradError, string> => {
  const fail = (why: string) => E.left(hgError('config', `${option} ${showValue(dir, 200)}: ${why}`))
  try {
    const st = statSync(dir, { throwIfNoEntry: false })
    if (st !== undefined && !st.isDirectory()) return fail('exists and is not a folder')
    if (st === undefined) mkdirSync(dir, { recursive: true })
  } catch (e) {
    return fail(`cannot create the folder: ${describeFsError(e)}`)
  }
  const probe = join(dir, `.hypergrad-write-test-${process.pid}`)
  try {
    writeFileSync(probe, '')
  } catch (e) {
    return fail(`cannot write there: ${describeFsError(e)}`)
  }
  try {
    rmSync(probe, { force: true })
  } catch {
    // A probe that cannot be removed is harmless: the folder is writable.
  }
  return E.right(dir)
}

/** A note on stderr (one line): something the command decided for the user. */
export const note = (message: string): void => {
  process.stderr.write(`hypergrad: note: ${oneLineText(message)}\n`)
}

/** A progress bar on stderr, silent when stderr is not a terminal or when quiet. */
export interface Progress {
  start(total: number, label: string): void
  update(done: number): void
  stop(): void
}

export const silentProgress: Progress = { start: () => {}, update: () => {}, stop: () => {} }

/** Where a progress bar writes and how an interrupted run ends (the defaults: stderr, process.exit). */
export interface ProgressOptions {
  /** While the bar runs, Ctrl-C ends it on its own line and exits with status 130. */
  readonly interruptible?: boolean
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean }
  readonly exit?: (code: number) => void
}

/**
 * A progress bar with the elapsed time and an estimate of the time left. The cursor stays
 * visible (a bar that hid it would leave it hidden when the process is interrupted while the
 * main thread computes). `interruptible`: pass it only when the main thread is free to notice
 * a signal (the work runs in worker threads); otherwise Ctrl-C keeps its default (an
 * immediate exit).
 */
export const progressBar = (quiet: boolean, opts: ProgressOptions = {}): Progress => {
  const stream = opts.stream ?? process.stderr
  if (quiet || stream.isTTY !== true) return silentProgress
  // Loaded here, only for a bar on a terminal: the command starts faster without its modules.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress')
  const bar = new cliProgress.SingleBar(
    { stream, format: '{label} [{bar}] {value}/{total} | {duration_formatted} elapsed | {eta_formatted} left', hideCursor: false, clearOnComplete: false, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  )
  let running = false
  const onSigint = (): void => {
    bar.stop()
    stream.write('\u001b[?25hhypergrad: interrupted\n')
    ;(opts.exit ?? process.exit)(130)
  }
  return {
    start: (total, label) => {
      bar.start(total, 0, { label })
      running = true
      if (opts.interruptible === true) process.once('SIGINT', onSigint)
    },
    update: (done) => bar.update(done),
    stop: () => {
      if (!running) return
      running = false
      bar.stop()
      process.removeListener('SIGINT', onSigint)
    },
  }
}

/** Text on one line: line breaks and other control characters become spaces. */
export const oneLineText = (s: string): string => s.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()

/** The message of an error thrown by library code, as one line (at most 500 characters). */
export const oneLine = (e: unknown): string => {
  const raw = e instanceof UserError ? e.message : e instanceof HypergradException ? e.error.message : e instanceof Error ? e.message || e.name : String(e)
  const s = oneLineText(raw)
  return s.length > 500 ? `${s.slice(0, 499)}…` : s
}
