import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { matrix } from '../linalg/types.js'
import type { Dataset } from './dataset.js'
import { csrFromDense } from '../linalg/csr.js'
import { formatLibsvm, parseLibsvm, parseLibsvmSparse, readLibsvmFile, readLibsvmSparse, readLibsvmSplit, type LibsvmOptions } from './libsvm.js'

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]))

// A random sparse dataset: about half the entries are exactly zero; −0 is written as +0 since
// the sparse format cannot carry the sign of a zero.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v))
const sparseDataset = (label: fc.Arbitrary<number>): fc.Arbitrary<Dataset> =>
  fc
    .record({ n: fc.integer({ min: 1, max: 12 }), p: fc.integer({ min: 0, max: 9 }) })
    .chain(({ n, p }) =>
      fc.record({
        x: fc.array(fc.oneof(fc.constant(0), finite), { minLength: n * p, maxLength: n * p }),
        y: fc.array(label, { minLength: n, maxLength: n }),
      }).map(({ x, y }) => ({ X: matrix(n, p, Float64Array.from(x)), y: Float64Array.from(y) })),
    )

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected Right, got Left: ${e.left.message}`)
  return e.right
}

describe('libsvm round trip', () => {
  it('parseLibsvm(formatLibsvm(ds), {nFeatures: p}) gives back ds bit for bit (real labels)', () => {
    fc.assert(
      fc.property(sparseDataset(finite), (ds) => {
        const back = right(parseLibsvm(formatLibsvm(ds), { nFeatures: ds.X.cols }))
        expect(back.X.rows).toBe(ds.X.rows)
        expect(back.X.cols).toBe(ds.X.cols)
        expect(sameBits(back.X.data, ds.X.data)).toBe(true)
        expect(sameBits(back.y, ds.y)).toBe(true)
      }),
    )
  })

  it('without nFeatures, p is the last column holding a non-zero; binary ±1 labels survive', () => {
    fc.assert(
      fc.property(sparseDataset(fc.constantFrom(-1, 1)), (ds) => {
        const back = right(parseLibsvm(formatLibsvm(ds), { labels: 'binary' }))
        let last = 0
        for (let k = 0; k < ds.X.data.length; k++) if (ds.X.data[k] !== 0) last = Math.max(last, (k % ds.X.cols) + 1)
        expect(back.X.cols).toBe(last)
        for (let i = 0; i < ds.X.rows; i++)
          for (let j = 0; j < last; j++) expect(back.X.data[i * last + j]).toBe(ds.X.data[i * ds.X.cols + j])
        expect(sameBits(back.y, ds.y)).toBe(true)
      }),
    )
  })
})

describe('parseLibsvm', () => {
  it('skips comments and blank lines, accepts CRLF, qid and any spacing, fills zeros', () => {
    const text = '# header comment\r\n\r\n  1.5   2:3 4:-0.25  # trailing\r\n-2 qid:7 1:1e-3\n\t\n0\n'
    const ds = right(parseLibsvm(text))
    expect(ds.X.rows).toBe(3)
    expect(ds.X.cols).toBe(4)
    expect(Array.from(ds.X.data)).toEqual([0, 3, 0, -0.25, 0.001, 0, 0, 0, 0, 0, 0, 0])
    expect(Array.from(ds.y)).toEqual([1.5, -2, 0])
  })

  it('binary labels: {0, 1} is mapped to {−1, +1}; ±1 is kept; nFeatures pads columns', () => {
    const a = right(parseLibsvm('0 1:1\n1 2:2\n+1 1:3\n', { labels: 'binary', nFeatures: 3 }))
    expect(Array.from(a.y)).toEqual([-1, 1, 1])
    expect(a.X.cols).toBe(3)
    expect(Array.from(a.X.data)).toEqual([1, 0, 0, 0, 2, 0, 3, 0, 0])
    const b = right(parseLibsvm('-1 1:1\n1 1:2\n', { labels: 'binary' }))
    expect(Array.from(b.y)).toEqual([-1, 1])
  })

  // Each bad line sits on line 3, after a comment line and a good line, so the line number is checked.
  const bad: Array<[string, string, LibsvmOptions?]> = [
    ['1 0:1', 'feature index 0 is not ≥ 1'],
    ['1 -2:1', 'feature index -2 is not ≥ 1'],
    ['1 1.5:1', "feature index '1.5' is not an integer"],
    ['1 1:abc', "value of feature 1 'abc' is not a number"],
    ['1 1:0x10', 'is not a number'],
    ['1 2:nan', "value of feature 2 'nan' is not finite"],
    ['1 2:-Infinity', 'is not finite'],
    ['1 2:1e999', "'1e999' is not finite"],
    ['1 3:1 2:1', 'feature index 2 does not increase (previous 3)'],
    ['1 2:1 2:1', 'feature index 2 does not increase (previous 2)'],
    ['1:0.5 2:1', 'missing label'],
    ['abc 1:1', "label 'abc' is not a number"],
    ['NaN 1:1', "label 'NaN' is not finite"],
    ['1 5', "malformed feature '5'"],
    ['1 4:', "malformed feature '4:'"],
    ['1 :4', "malformed feature ':4'"],
    ['1 1:2:3', "malformed feature '1:2:3'"],
    ['1 9:1', 'feature index 9 exceeds nFeatures = 8', { nFeatures: 8 }],
    ['2 1:1', 'label 2 is not binary', { labels: 'binary' }],
    ['0 1:1', 'labels mix −1 (line 2) and 0 (line 3)', { labels: 'binary' }],
  ]
  it.each(bad)('line 3 %j → error naming line 3 and "%s"', (line: string, fault: string, opts?: LibsvmOptions) => {
    const r = parseLibsvm(`# comment\n-1 1:1\n${line}\n1 1:2\n`, { ...opts, source: 'train.svm' })
    expect(E.isLeft(r)).toBe(true)
    if (E.isLeft(r)) {
      expect(r.left.kind).toBe('data')
      expect(r.left.message.startsWith('train.svm:3: ')).toBe(true)
      expect(r.left.message).toContain(fault)
    }
  })

  it('an empty file, or one with only comments and blank lines, is an error', () => {
    for (const text of ['', '\n\n', '# nothing here\n   \n# at all']) {
      const r = parseLibsvm(text, { source: 'e.svm' })
      expect(E.isLeft(r) && r.left.kind === 'data' && r.left.message.includes('e.svm: no data lines')).toBe(true)
    }
  })

  it('a bad nFeatures is a config error', () => {
    const r = parseLibsvm('1 1:1\n', { nFeatures: -1 })
    expect(E.isLeft(r) && r.left.kind === 'config' && r.left.message.includes('nFeatures')).toBe(true)
  })
})

describe('readLibsvmFile and formatLibsvm', () => {
  it('reads a written file back; errors name the path; a missing file is a data error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-libsvm-'))
    try {
      const ds: Dataset = { X: matrix(2, 3, Float64Array.of(0, 1.25, 0, -3, 0, 7)), y: Float64Array.of(1, -1) }
      const file = join(dir, 'a.svm')
      writeFileSync(file, formatLibsvm(ds))
      const back = right(readLibsvmFile(file, { nFeatures: 3 }))
      expect(Array.from(back.X.data)).toEqual([0, 1.25, 0, -3, 0, 7])
      expect(Array.from(back.y)).toEqual([1, -1])
      const badFile = join(dir, 'b.svm')
      writeFileSync(badFile, '1 1:1\n1 0:2\n')
      const r = readLibsvmFile(badFile)
      expect(E.isLeft(r) && r.left.message.startsWith(`${badFile}:2: feature index 0`)).toBe(true)
      const missing = readLibsvmFile(join(dir, 'none.svm'))
      expect(E.isLeft(missing) && missing.left.kind === 'data' && missing.left.message.includes('none.svm')).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('formatLibsvm writes 1-based indices of the non-zeros only and refuses non-finite entries', () => {
    const ds: Dataset = { X: matrix(2, 3, Float64Array.of(0, 0.5, 0, 0, 0, 0)), y: Float64Array.of(-1, 2) }
    expect(formatLibsvm(ds)).toBe('-1 2:0.5\n2\n')
    expect(() => formatLibsvm({ X: matrix(1, 1, Float64Array.of(NaN)), y: Float64Array.of(1) })).toThrow(RangeError)
    expect(() => formatLibsvm({ X: matrix(1, 1, Float64Array.of(1)), y: Float64Array.of(1, 2) })).toThrow(RangeError)
  })
})

describe('the sparse reader', () => {
  it('reads every number as Number() does, bit for bit (fast path and fallback)', () => {
    const digits = (min: number, max: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''))
    const numeral = fc
      .record({
        sign: fc.constantFrom('', '-', '+'),
        int: digits(0, 20),
        frac: fc.option(digits(0, 20), { nil: undefined }),
        exp: fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 330 })), { nil: undefined }),
      })
      .filter((r) => r.int.length > 0 || (r.frac !== undefined && r.frac.length > 0))
      .map((r) => `${r.sign}${r.int}${r.frac === undefined ? '' : `.${r.frac}`}${r.exp === undefined ? '' : `${r.exp[0]}${r.exp[1]}${r.exp[2]}`}`)
    fc.assert(
      fc.property(fc.oneof(numeral, finite.map(String)), (tok) => {
        const want = Number(tok)
        const r = parseLibsvmSparse(`${tok} 1:${tok}\n`)
        if (!Number.isFinite(want)) {
          expect(E.isLeft(r) && r.left.message).toMatch(/is not finite/)
          return
        }
        const d = right(r)
        expect(Object.is(d.y[0], want)).toBe(true)
        expect(Object.is(d.X.values[0], want)).toBe(true)
      }),
      { numRuns: 400 },
    )
  })

  it('gives the CSR form of what the dense reader gives, and skips a byte-order mark', () => {
    fc.assert(
      fc.property(sparseDataset(finite), (ds) => {
        const text = formatLibsvm(ds)
        const sp = right(parseLibsvmSparse(text, { nFeatures: ds.X.cols }))
        const de = right(parseLibsvm('\uFEFF' + text, { nFeatures: ds.X.cols }))
        const want = csrFromDense(de.X)
        expect(Array.from(sp.X.indptr)).toEqual(Array.from(want.indptr))
        expect(Array.from(sp.X.indices)).toEqual(Array.from(want.indices))
        expect(sameBits(sp.X.values, want.values)).toBe(true)
        expect(sameBits(sp.y, de.y)).toBe(true)
      }),
    )
  })

  it('holds a row with index 2·10⁸ in O(nnz) memory; the dense reader refuses it', () => {
    const sp = right(parseLibsvmSparse('1 3:2 200000000:0.5\n-1 7:1\n'))
    expect(sp.X.cols).toBe(200000000)
    expect(Array.from(sp.X.indices)).toEqual([2, 199999999, 6])
    const de = parseLibsvm('1 3:2 200000000:0.5\n-1 7:1\n', { source: 'w.svm' })
    expect(E.isLeft(de) && de.left.message).toMatch(/^w\.svm: a dense 2 × 200000000 matrix exceeds/)
  })

  it('multiclass: classes are the sorted distinct labels, numbered 0…C−1; a non-integer label or a single class is an error', () => {
    const d = right(parseLibsvmSparse('7 1:1\n-3 2:1\n7 1:2\n12 3:1\n', { labels: 'multiclass' }))
    expect(d.nClasses).toBe(3)
    expect(d.classes).toEqual([-3, 7, 12])
    expect(Array.from(d.y)).toEqual([1, 0, 1, 2])
    const frac = parseLibsvmSparse('1 1:1\n2.5 1:1\n', { labels: 'multiclass', source: 'm.svm' })
    expect(E.isLeft(frac) && frac.left.message).toBe('m.svm:2: label 2.5 is not an integer (multiclass labels are class numbers)')
    const one = parseLibsvmSparse('4 1:1\n4 2:1\n', { labels: 'multiclass', source: 'm.svm' })
    expect(E.isLeft(one) && one.left.message).toMatch(/^m\.svm: multiclass labels need at least 2 classes, found only 4/)
  })
})

describe('readLibsvmSplit', () => {
  const withFiles = (files: Record<string, string>, f: (path: (name: string) => string) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-libsvm-split-'))
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
      f((name) => join(dir, name))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

  it('takes p as the largest index over training and validation, and numbers the classes of the training file', () => {
    withFiles({ 'tr.svm': '2 1:1 3:2\n0 2:1\n5 1:1\n', 'va.svm': '5 9:1\n0 1:1\n', 'te.svm': '2 4:1\n' }, (path) => {
      const s = right(readLibsvmSplit({ train: path('tr.svm'), validation: path('va.svm'), test: path('te.svm') }, { labels: 'multiclass' }))
      expect(s.nFeatures).toBe(9)
      expect([s.train.X.cols, s.validation.X.cols, s.test!.X.cols]).toEqual([9, 9, 9])
      expect(s.classes).toEqual([0, 2, 5])
      expect(Array.from(s.train.y)).toEqual([1, 0, 2])
      expect(Array.from(s.validation.y)).toEqual([2, 0])
      expect(s.validation.nClasses).toBe(3)
      const fixed = right(readLibsvmSplit({ train: path('tr.svm'), validation: path('va.svm') }, { nFeatures: 12 }))
      expect(fixed.train.X.cols).toBe(12)
    })
  })

  it('names the file and the line of a validation label not seen in training, and of an index past nFeatures', () => {
    withFiles({ 'tr.svm': '1 1:1\n2 2:1\n', 'va.svm': '# c\n1 1:1\n3 2:1\n' }, (path) => {
      const r = readLibsvmSplit({ train: path('tr.svm'), validation: path('va.svm') }, { labels: 'multiclass' })
      expect(E.isLeft(r) && r.left.kind === 'data' && r.left.message).toBe(`${path('va.svm')}:3: label 3 is not a class of the training data (1, 2)`)
      const past = readLibsvmSplit({ train: path('tr.svm'), validation: path('va.svm') }, { nFeatures: 1 })
      expect(E.isLeft(past) && past.left.message).toBe(`${path('tr.svm')}:2: feature index 2 exceeds nFeatures = 1`)
      const missing = readLibsvmSplit({ train: path('tr.svm'), validation: path('none.svm') })
      expect(E.isLeft(missing) && missing.left.message.startsWith(`${path('none.svm')}: cannot read`)).toBe(true)
      expect(E.isRight(readLibsvmSparse(path('tr.svm'), { labels: 'binary', nFeatures: 2 }))).toBe(false)
    })
  })
})
