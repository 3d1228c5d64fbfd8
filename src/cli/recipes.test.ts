/**
 * The sweep recipes of docs/reproduction.md: the Slurm job-array script runs as Slurm would
 * run it (its environment variables set), and the command of the Kubernetes Indexed Job is
 * expanded by the shell for its first and last index and read by the command's own parser.
 */
import * as E from 'fp-ts/lib/Either.js'
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { configure, mergeShards, reproduce } from '../experiments/registry.js'
import type { Shard } from '../experiments/shard.js'
import { program } from './main.js'
import { overridesOf } from './reproduce.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const slurmScript = join(root, 'docs/recipes/slurm-sweep.sh')
const k8sJob = join(root, 'docs/recipes/k8s-indexed-job.yaml')

const sh = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<{ readonly code: number; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve) => {
    execFile('sh', [...args], { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, timeout: 120_000 }, (e, stdout, stderr) =>
      resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, stdout, stderr }),
    )
  })

const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

describe('the Slurm job-array recipe', () => {
  const experiment = ['bounds', '--runs', '3', '--set', 'rows=30', '--set', 'cols=3', '--set', 'lowerIterations=3', '--set', 'linearIterations=4']

  it('runs slice (task id − first id + 1) of the array per task; the merged slices are the run', async () => {
    const sweep = mkdtempSync(join(tmpdir(), 'hg-slurm-'))
    // An array of two tasks numbered from 0 (sbatch --array=0-1), one CPU each.
    for (const id of ['0', '1']) {
      const r = await sh([slurmScript, ...experiment], {
        SLURM_ARRAY_TASK_ID: id,
        SLURM_ARRAY_TASK_MIN: '0',
        SLURM_ARRAY_TASK_MAX: '1',
        SLURM_ARRAY_TASK_COUNT: '2',
        SLURM_CPUS_PER_TASK: '1',
        SWEEP_DIR: sweep,
        HYPERGRAD: `${process.execPath} ${join(root, 'bin/hypergrad.js')}`,
        HYPERGRAD_FROM_SOURCE: '1',
      })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^slice ${Number(id) + 1} of 2 of bounds`))
    }
    const dir = join(sweep, 'bounds', 'shards')
    expect(readdirSync(dir).sort()).toEqual(['shard-1-of-2.json', 'shard-2-of-2.json'])
    const merged = right(mergeShards(readdirSync(dir).map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') }))))
    const whole = right(await reproduce('bounds', { runs: 3, rows: 30, cols: 3, lowerIterations: 3, linearIterations: 4 }, { workers: 1 }))
    expect(merged.details).toEqual(whole.details)
    expect(merged.rows).toEqual(whole.rows)
  })

  it('refuses to run outside a job array, or without an experiment', async () => {
    const outside = await sh([slurmScript, 'bounds'], {})
    expect(outside.code).not.toBe(0)
    expect(outside.stderr).toMatch(/run this script as a Slurm job array/)
    const nameless = await sh([slurmScript], { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' })
    expect(nameless.code).not.toBe(0)
    expect(nameless.stderr).toMatch(/name the experiment/)
  })
})

interface Container {
  readonly command: ReadonlyArray<string>
  readonly args: ReadonlyArray<string>
}

describe('the Kubernetes Indexed Job recipe', () => {
  const job = parse(readFileSync(k8sJob, 'utf8')) as {
    kind: string
    spec: { completionMode: string; completions: number; parallelism: number; template: { spec: { restartPolicy: string; containers: Container[] } } }
  }

  /** The argv the container's command gives `npx` at JOB_COMPLETION_INDEX = index: the shell expands it, a stand-in npx records it. */
  const argvAt = async (index: number): Promise<string[]> => {
    const bin = mkdtempSync(join(tmpdir(), 'hg-k8s-'))
    const npx = join(bin, 'npx')
    writeFileSync(npx, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    chmodSync(npx, 0o755)
    const { command, args } = job.spec.template.spec.containers[0]!
    expect(command).toEqual(['sh', '-c'])
    expect(args).toHaveLength(1)
    const r = await sh(['-c', args[0]!], { PATH: `${bin}:${process.env['PATH'] ?? ''}`, JOB_COMPLETION_INDEX: String(index) })
    expect(r.code, r.stderr).toBe(0)
    return r.stdout.split('\n').filter((l) => l !== '')
  }

  /** What the command's own parser makes of an argv: the experiment and the options of `reproduce`. */
  const parsed = async (argv: ReadonlyArray<string>): Promise<{ readonly experiment: string; readonly o: { shard?: Shard; out?: string; set?: string[] } }> => {
    const cmd = program(() => {})
    let got: { experiment: string; o: { shard?: Shard; out?: string } } | undefined
    cmd.commands.find((c) => c.name() === 'reproduce')!.action((experiment: string, o: { shard?: Shard; out?: string }) => {
      got = { experiment, o }
    })
    await cmd.parseAsync([...argv], { from: 'user' })
    if (got === undefined) throw new Error(`not a reproduce command: ${argv.join(' ')}`)
    return got
  }

  it('is an Indexed Job whose pods never restart in place', () => {
    expect(job.kind).toBe('Job')
    expect(job.spec.completionMode).toBe('Indexed')
    expect(job.spec.template.spec.restartPolicy).toBe('Never')
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions)
  })

  it('maps JOB_COMPLETION_INDEX k to slice k + 1 of `completions`, in a command the CLI accepts', async () => {
    const n = job.spec.completions
    for (const k of [0, n - 1]) {
      const argv = await argvAt(k)
      expect(argv[0]).toBe('hypergrad')
      const { experiment, o } = await parsed(argv.slice(1))
      expect(o.shard).toEqual({ index: k + 1, count: n })
      expect(o.out).toBe(`/results/${experiment}/shards`)
      expect(E.isRight(configure(experiment, overridesOf(o)))).toBe(true)
    }
  })
})

describe('docs/reproduction.md', () => {
  it('shows the recipes as they are in docs/recipes', () => {
    const doc = readFileSync(join(root, 'docs/reproduction.md'), 'utf8')
    for (const f of [slurmScript, k8sJob]) expect(doc).toContain(readFileSync(f, 'utf8').trimEnd())
  })
})
