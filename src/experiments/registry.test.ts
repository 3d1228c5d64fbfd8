import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configure, experimentNames, experiments, getExperiment, reproduce, write, type ExperimentOutput } from './registry.js'
import { leftMessage, right } from './testing.test-util.js'

describe('experiment registry', () => {
  it('lists the papers’ experiments, whose defaults decode to themselves and whose fields cover the config', () => {
    const papers = ['sid-fig1', 'sid-fig2', 'iteration-complexity', 'bounds']
    expect(experimentNames.slice(0, 4)).toEqual(papers)
    for (const name of papers) {
      const x = right(getExperiment(name))
      expect(right(x.configure())).toEqual(x.defaults)
      expect(x.fields.map((f) => f.name).sort()).toEqual(Object.keys(x.defaults as object).sort())
    }
  })

  it('parses command-line strings by field kind', () => {
    const c = right(experiments['sid-fig1'].configure({ runs: '3', lambdas: '1, 10', variants: 'batch,stochDec', split: 'reference', seed: '7' }))
    expect(c).toMatchObject({ runs: 3, lambdas: [1, 10], variants: ['batch', 'stochDec'], split: 'reference', seed: 7 })
    // One budget E: the default budgets below E, then E.
    expect(right(experiments['sid-fig1'].configure({ epochs: '20' })).epochs).toEqual([2, 4, 10, 20])
    expect(right(experiments['sid-fig1'].configure({ epochs: 15 })).epochs).toEqual([2, 4, 10, 15])
    expect(right(experiments['sid-fig1'].configure({ epochs: '5,7' })).epochs).toEqual([5, 7])
    expect(right(experiments['iteration-complexity'].configure({ bounds: 'false', iterations: '0,5' }))).toMatchObject({ bounds: false, iterations: [0, 5] })
    expect(right(configure('bounds', { rows: 200, cols: '5' }))).toMatchObject({ rows: 200, cols: 5 })
  })

  it('names the field at fault in every configuration error', () => {
    expect(leftMessage(configure('sid-fig1', { runz: 2 }))).toBe('reproduce sid-fig1: runz: unknown field; did you mean "runs"?')
    expect(leftMessage(configure('sid-fig1', { colour: 'blue' }))).toMatch(/^reproduce sid-fig1: colour: unknown field \(fields: runs, epochs, /)
    expect(leftMessage(configure('sid-fig1', { runs: '0' }))).toBe('reproduce sid-fig1: runs: expected an integer ≥ 1, got 0')
    expect(leftMessage(configure('sid-fig1', { runs: 'many' }))).toBe('reproduce sid-fig1: runs: expected an integer, got "many"')
    expect(leftMessage(configure('sid-fig1', { variants: 'batch,fast' }))).toMatch(/variants\.1: expected a SID variant of §6 \(one of "batch"/)
    expect(leftMessage(configure('sid-fig1', { variants: 'batch,twoPhase' }))).toMatch(/variants\.1: expected a SID variant of §6 \(one of "batch", "stochConst", "stochDec"\), got "twoPhase"/)
    expect(leftMessage(configure('sid-fig2', { sampling: 'independent,shuffle' }))).toMatch(/sampling\.1: expected a sampling \(one of "independent", "reshuffle"\), got "shuffle"/)
    expect(leftMessage(configure('sid-fig1', { variants: 'batch,stochdec' }))).toMatch(/variants\.1: .*did you mean "stochDec"\?$/)
    expect(leftMessage(configure('sid-fig1', { lambdas: '1,-2' }))).toMatch(/lambdas\.1: expected a positive number, got -2/)
    expect(leftMessage(configure('sid-fig1', { nTrain: 6000 }))).toMatch(/exceeds the 10000/)
    expect(leftMessage(configure('sid-fig2', { epsLow: 3 }))).toMatch(/epsLow 3 exceeds epsHigh 2/)
    expect(leftMessage(configure('bounds', { rows: 3, cols: 5 }))).toMatch(/rows 3 must be ≥ cols 5/)
    expect(leftMessage(configure('iteration-complexity', { quadL: 0.5 }))).toMatch(/quadL/)
    expect(leftMessage(getExperiment('fig3'))).toMatch(/unknown experiment "fig3" \(known: sid-fig1/)
    expect(leftMessage(getExperiment('sid-fig3'))).toMatch(/unknown experiment "sid-fig3"; did you mean "sid-fig1"\?/)
  })

  it('rejects a bad worker count and reports an unwritable output directory', async () => {
    expect(leftMessage(await reproduce('bounds', { runs: 1, rows: 20, cols: 2, lowerIterations: 1, linearIterations: 1 }, { workers: 0 }))).toMatch(
      /workers: expected an integer ≥ 1, got 0/,
    )
    const out = right(await reproduce('bounds', { runs: 1, rows: 20, cols: 2, lowerIterations: 2, linearIterations: 2 }, { workers: 1 }))
    expect(out.timing.cpuSeconds).toBeGreaterThan(0)
    expect(out.timing.maxRssMiB).toBeGreaterThan(0)
    const file = join(mkdtempSync(join(tmpdir(), 'hg-reg-')), 'not-a-dir')
    writeFileSync(file, 'x')
    expect(leftMessage(await write(out as ExperimentOutput<unknown>, join(file, 'sub')))).toMatch(/cannot write to/)
  })

  it('plans a run against the machine: workers capped at the cores, lowered to fit memory, counts refused with the field at fault', () => {
    const x = experiments['sid-fig1']
    const config = right(x.configure({ runs: '2' }))
    const cost = x.plan(config, {}, { memoryBytes: 1e12, heapBytes: 1e10, cores: 2 })
    const big = { memoryBytes: 1e12, heapBytes: 1e10, cores: 2 }
    expect(right(cost).workers).toBe(2)
    expect(right(cost).notes).toEqual([])
    const capped = right(x.plan(config, { workers: 64 }, big))
    expect(capped.workers).toBe(2)
    expect(capped.notes).toEqual(['64 workers asked for, but this machine has 2 cores; using 2'])
    // Memory for one worker and the shared split, not for two: one worker, with a note.
    const one = right(cost).cost
    const tight = { ...big, memoryBytes: one.results.bytes + one.shared + 1.5 * one.perWorker.bytes }
    const lowered = right(x.plan(config, {}, tight))
    expect(lowered.workers).toBe(1)
    expect(lowered.notes[0]).toMatch(/^2 workers would need about .* of memory \(.* each\); using 1$/)
    // Too little for one: refused, naming the field that weighs most.
    expect(leftMessage(x.plan(right(x.configure({ runs: '1000000' })), {}, { ...big, memoryBytes: 1e9 }))).toMatch(/^reproduce sid-fig1: runs = 1e6: the run needs about .* of memory \(.* tasks\); 1\.0 GB is available$/)
    expect(leftMessage(x.plan(right(x.configure({ epochs: '1000000' })), { maxSeconds: 3600 }, big))).toMatch(/^reproduce sid-fig1: epochs = 2,4,10,20,40,60,1e6: the run is estimated at .* of computing on 2 workers; the limit is 1\.0 h \(--max-hours\)$/)
    expect(leftMessage(x.plan(right(x.configure({ runs: '100000' })), {}, { ...big, heapBytes: 1e6 }))).toMatch(/runs = 100000: the run needs about .* of JavaScript heap in one thread/)
  })

  it('estimates the defaults of every experiment below two hours on two workers, and refuses none of them', () => {
    // The estimates count caps in full (tune-mnist's refits at 20·maxT steps): its 16 runs of
    // six 40-second methods are estimated at 1.6 h and take about 40 minutes.
    for (const name of experimentNames) {
      const x = right(getExperiment(name))
      const p = right(x.plan(x.defaults, { workers: 2 }, { memoryBytes: 4e9, heapBytes: 2e9, cores: 2 }))
      expect(p.cost.seconds / p.workers, name).toBeLessThan(7200)
      expect(p.cost.seconds, name).toBeGreaterThan(0)
    }
  })
})
