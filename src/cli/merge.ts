/**
 * `hypergrad merge PATH…`: put the shard files of a sharded run (`hypergrad reproduce NAME
 * --shard i/n`) together and write what one unsharded run writes — results.json, results.csv
 * and the figures — with the same numbers, bit for bit (the timing fields aside:
 * docs/reproduction.md). A PATH is a folder (its shard-i-of-n.json files) or a shard file. The
 * shards are read and checked before anything is written: files that are not shards, shards of
 * other experiments, configurations, slice counts or library versions, a slice given twice or
 * missing are refused with one line (status 2).
 */
import * as E from 'fp-ts/lib/Either.js'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { showValue } from '../config/show.js'
import { hgError, type HypergradError } from '../errors.js'
import { mergeShards } from '../experiments/registry.js'
import { isShardFileName } from '../experiments/shard.js'
import type { Outcome } from './estimate.js'
import { describeFsError, EXIT, must, prepareOutDir } from './io.js'
import { timeLine, writeOrPrint } from './reproduce.js'

export interface MergeOptions {
  /** Output folder (default: out/<experiment>). */
  readonly out?: string
}

/** The shard files a path names: the file itself, or a folder's shard-i-of-n.json files (in name order). */
const shardPaths = (path: string): E.Either<HypergradError, string[]> => {
  const fail = (why: string) => E.left(hgError('config', `merge: ${showValue(path, 200)}: ${why}`))
  try {
    const st = statSync(path)
    if (st.isFile()) return E.right([path])
    if (!st.isDirectory()) return fail('not a file or folder')
    const names = readdirSync(path).filter(isShardFileName).sort()
    return names.length > 0 ? E.right(names.map((n) => join(path, n))) : fail('no shard files (shard-i-of-n.json) in this folder')
  } catch (e) {
    return fail(describeFsError(e))
  }
}

/** Read the shards at `paths`, merge them, and write the run's files. */
export const mergeCommand = async (paths: ReadonlyArray<string>, opts: MergeOptions): Promise<Outcome> => {
  const files: Array<{ readonly name: string; readonly text: string }> = []
  for (const p of paths)
    for (const f of must(shardPaths(p))) {
      let text: string
      try {
        text = readFileSync(f, 'utf8')
      } catch (e) {
        return must(E.left(hgError('config', `merge: cannot read ${f}: ${describeFsError(e)}`)))
      }
      files.push({ name: f, text })
    }
  const out = must(mergeShards(files))
  const dir = must(prepareOutDir(opts.out ?? `out/${out.experiment}`, opts.out === undefined ? 'output folder' : '--out'))
  const w = await writeOrPrint(out, dir)
  const shards = out.timing.shards?.length ?? 0
  const stdout = [
    out.summary.trimEnd(),
    '',
    w.text,
    `merged ${shards} slice${shards === 1 ? '' : 's'} of ${out.experiment}: ${timeLine(out.timing)} (time of the longest slice, cpu summed over the slices, peak memory of the largest)`,
  ].join('\n')
  return { stdout, code: w.failed === undefined ? EXIT.ok : EXIT.input, ...(w.failed !== undefined ? { message: w.failed } : {}) }
}
