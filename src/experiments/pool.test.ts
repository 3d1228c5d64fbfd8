import { describe, expect, it } from 'vitest'
import { runTasks } from './pool.js'

describe('experiment pool', () => {
  const tasks = [3, 1, 4, 1, 5].map((x) => ({ module: 'poolFixture', fn: 'square', input: x }))
  it('returns results in task order, the same with one worker and with two', async () => {
    const one = await runTasks<number>(tasks, { workers: 1 })
    const two = await runTasks<number>(tasks, { workers: 2 })
    expect(one).toEqual([9, 1, 16, 1, 25])
    expect(two).toEqual(one)
  })
  it('reports progress once per task', async () => {
    const seen: number[] = []
    await runTasks(tasks, { workers: 2, onDone: (d) => seen.push(d) })
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5])
  })
  it('propagates a task failure with its message', async () => {
    await expect(runTasks([{ module: 'poolFixture', fn: 'fail', input: 'bad input x' }], { workers: 1 })).rejects.toThrow('bad input x')
    await expect(
      runTasks([{ module: 'poolFixture', fn: 'fail', input: 'worker bad' }, { module: 'poolFixture', fn: 'square', input: 2 }], { workers: 2 }),
    ).rejects.toThrow('worker bad')
  })
})

describe('experiment pool hooks', () => {
  it('runs the task that resolve returns (also a promise), and calls onSettled once per task', async () => {
    for (const workers of [1, 2]) {
      const settled: number[] = []
      const out = await runTasks<number>([1, 2, 3].map((x) => ({ module: 'poolFixture', fn: 'square', input: x })), {
        workers,
        resolve: (t, i) => (i === 1 ? new Promise((r) => setTimeout(() => r({ ...t, input: 10 }), 20)) : t),
        onSettled: (i) => settled.push(i),
      })
      expect(out).toEqual([1, 100, 9])
      expect(settled.sort()).toEqual([0, 1, 2])
    }
  })
  it('rejects the run when resolve throws or rejects', async () => {
    const tasks = [{ module: 'poolFixture', fn: 'square', input: 2 }]
    await expect(runTasks(tasks, { workers: 1, resolve: () => { throw new Error('no slot') } })).rejects.toThrow('no slot')
    await expect(runTasks([...tasks, ...tasks], { workers: 2, resolve: () => Promise.reject(new Error('late')) })).rejects.toThrow('late')
  })
})
