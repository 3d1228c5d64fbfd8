import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runHere, type Ran } from './run.test-util.js'

const tiny = ['--set', 'rows=30', '--set', 'cols=3', '--set', 'lowerIterations=3', '--set', 'linearIterations=4', '--workers', '1', '--quiet']
const shardOf = (out: string, shard: string, runs = '3') => runHere(['reproduce', 'bounds', '--runs', runs, ...tiny, '--shard', shard, '--out', out])

/** A refusal: status 2 and one line on stderr matching `re`, nothing on stdout. */
const refused = (r: Ran, re: RegExp): void => {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
  expect(r.stderr).toMatch(re)
}

describe('hypergrad reproduce --shard and hypergrad merge', () => {
  it('writes one shard file per slice; merged, they give the files of one run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-merge-'))
    for (const s of ['1/2', '2/2']) {
      const r = await shardOf(join(dir, 'shards'), s)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^slice ${s[0]} of 2 of bounds: tasks \\d–\\d of 3\\nwrote .*shard-${s[0]}-of-2\\.json; when every slice is done: hypergrad merge `))
    }
    const m = await runHere(['merge', join(dir, 'shards'), '--out', join(dir, 'merged')])
    expect(m.code, m.stderr).toBe(0)
    expect(m.stdout).toMatch(/merged 2 slices of bounds: time .* \(time of the longest slice, cpu summed over the slices, peak memory of the largest\)\n$/)
    const whole = await runHere(['reproduce', 'bounds', '--runs', '3', ...tiny, '--out', join(dir, 'whole')])
    expect(whole.code).toBe(0)
    for (const f of ['results.csv', 'bounds-lower.svg', 'bounds-linear.svg']) expect(readFileSync(join(dir, 'merged', f), 'utf8')).toBe(readFileSync(join(dir, 'whole', f), 'utf8'))
    // The summary printed is the same too.
    expect(m.stdout.split('\n\n')[0]).toBe(whole.stdout.split('\n\n')[0])
  })

  it('refuses a bad slice before any work (status 2, one line)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'hg-merge-')), 'never')
    for (const s of ['0/3', '4/3', '1/0', '3', '1/2/3', 'one/two'])
      refused(await shardOf(out, s), new RegExp(`^hypergrad: error: option '--shard <i/n>' argument '${s}' is invalid\\. expected i/n, slice i of n with 1 ≤ i ≤ n \\(e\\.g\\. 2/8\\), got "${s}"$`, 'm'))
    refused(await runHere(['reproduce', 'list', '--shard', '1/2']), /--shard slices the tasks of an experiment; give its name, not "list"/)
    refused(await runHere(['reproduce', 'bounds', '--runs', '1e9', '--shard', '1/2']), /runs = 1e9: the run needs about/)
  })

  it('refuses merges of shards that do not make one run, naming the files (status 2, one line)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-merge-'))
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => join(dir, x)) as [string, string, string, string]
    for (const s of ['1/3', '2/3', '3/3']) expect((await shardOf(a, s)).code).toBe(0)
    expect((await shardOf(b, '2/3')).code).toBe(0)
    expect((await shardOf(c, '3/3', '4')).code).toBe(0)
    refused(await runHere(['merge', join(dir, 'nothing-here')]), /^hypergrad: merge: ".*nothing-here": no such file or folder \(ENOENT\)$/m)
    mkdirSync(d)
    refused(await runHere(['merge', d]), /^hypergrad: merge: ".*d": no shard files \(shard-i-of-n\.json\) in this folder$/m)
    refused(await runHere(['merge', join(a, 'shard-1-of-3.json'), join(a, 'shard-3-of-3.json')]), /^hypergrad: merge: slice 2 of 3 is missing$/m)
    refused(await runHere(['merge', a, b]), /^hypergrad: merge: slice 2 of 3 is given twice \(.*a\/shard-2-of-3\.json and .*b\/shard-2-of-3\.json\)$/m)
    refused(await runHere(['merge', join(a, 'shard-1-of-3.json'), join(a, 'shard-2-of-3.json'), join(c, 'shard-3-of-3.json')]), /shard-3-of-3\.json and .*shard-1-of-3\.json have different configurations \(runs: 4 against 3\)$/m)
    const e = join(dir, 'e')
    mkdirSync(e)
    const ic = await runHere(['reproduce', 'iteration-complexity', '--runs', '1', '--set', 'iterations=0,2', '--set', 'nTrain=60', '--set', 'nVal=60', '--set', 'quadDim=4', '--set', 'quadHyperDim=2', '--workers', '1', '--quiet', '--shard', '2/3', '--out', e])
    expect(ic.code, ic.stderr).toBe(0)
    copyFileSync(join(a, 'shard-1-of-3.json'), join(e, 'shard-1-of-3.json'))
    refused(await runHere(['merge', e]), /shard-2-of-3\.json is a shard of iteration-complexity, .*shard-1-of-3\.json of bounds$/m)
    writeFileSync(join(d, 'shard-1-of-1.json'), '{"format":"something else"}')
    refused(await runHere(['merge', d]), /^hypergrad: merge: .*shard-1-of-1\.json is not a hypergrad shard file \(format "something else", expected "hypergrad-shard\/1"\)$/m)
  })
})
