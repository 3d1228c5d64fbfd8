/**
 * A minimal WebAssembly binary encoder: enough of the binary format (one memory, imported
 * functions, exported functions, i32/f64/v128 instructions with structured control flow) to
 * write the library's SIMD row kernels (`rows/codegen.ts`) as TypeScript source. The module bytes
 * are produced at run time from that source: no toolchain, no committed binary.
 *
 * The encoding follows the WebAssembly core specification (binary format, §5) and its
 * fixed-width SIMD extension (prefix 0xFD).
 */

/** Value types. */
export const I32 = 0x7f
export const F64 = 0x7c
export const V128 = 0x7b
export type ValType = typeof I32 | typeof F64 | typeof V128

const uleb = (n: number, out: number[]): void => {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new RangeError(`wasmEncoder: ${n} is not a u32`)
  let v = n
  do {
    let b = v & 0x7f
    v = Math.floor(v / 128)
    if (v !== 0) b |= 0x80
    out.push(b)
  } while (v !== 0)
}

const sleb = (n: number, out: number[]): void => {
  if (!(Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff)) throw new RangeError(`wasmEncoder: ${n} is not an i32`)
  let v = n
  for (;;) {
    const b = v & 0x7f
    v >>= 7
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return
    }
    out.push(b | 0x80)
  }
}

/**
 * A function body under construction: each method appends one instruction and returns the
 * builder, so that code reads as the stack machine runs it. Memory instructions take a static
 * byte offset (added to the address on the stack).
 */
export class WasmCode {
  readonly bytes: number[] = []
  private mem(prefix: ReadonlyArray<number>, align: number, offset: number): this {
    this.bytes.push(...prefix, align)
    uleb(offset, this.bytes)
    return this
  }
  private simd(op: number): this {
    this.bytes.push(0xfd)
    uleb(op, this.bytes)
    return this
  }
  localGet(i: number): this {
    this.bytes.push(0x20)
    uleb(i, this.bytes)
    return this
  }
  localSet(i: number): this {
    this.bytes.push(0x21)
    uleb(i, this.bytes)
    return this
  }
  i32Const(v: number): this {
    this.bytes.push(0x41)
    sleb(v, this.bytes)
    return this
  }
  /** f64.const +0. */
  f64Zero(): this {
    this.bytes.push(0x44, 0, 0, 0, 0, 0, 0, 0, 0)
    return this
  }
  i32Load(offset = 0): this {
    return this.mem([0x28], 2, offset)
  }
  f64Load(offset = 0): this {
    return this.mem([0x2b], 3, offset)
  }
  f64Store(offset = 0): this {
    return this.mem([0x39], 3, offset)
  }
  i32Eqz(): this {
    this.bytes.push(0x45)
    return this
  }
  i32Add(): this {
    this.bytes.push(0x6a)
    return this
  }
  i32Sub(): this {
    this.bytes.push(0x6b)
    return this
  }
  i32Mul(): this {
    this.bytes.push(0x6c)
    return this
  }
  i32And(): this {
    this.bytes.push(0x71)
    return this
  }
  i32Shl(): this {
    this.bytes.push(0x74)
    return this
  }
  i32LtS(): this {
    this.bytes.push(0x48)
    return this
  }
  i32GtS(): this {
    this.bytes.push(0x4a)
    return this
  }
  i32LeS(): this {
    this.bytes.push(0x4c)
    return this
  }
  i32GeS(): this {
    this.bytes.push(0x4e)
    return this
  }
  f64Ne(): this {
    this.bytes.push(0x62)
    return this
  }
  f64Add(): this {
    this.bytes.push(0xa0)
    return this
  }
  f64Mul(): this {
    this.bytes.push(0xa2)
    return this
  }
  /** select: [a, b, cond] → cond ≠ 0 ? a : b. */
  select(): this {
    this.bytes.push(0x1b)
    return this
  }
  /** v128.load with an 8-byte alignment hint (rows need not be 16-byte aligned). */
  v128Load(offset = 0): this {
    this.bytes.push(0xfd, 0x00)
    return this.mem([], 3, offset)
  }
  v128Store(offset = 0): this {
    this.bytes.push(0xfd, 0x0b)
    return this.mem([], 3, offset)
  }
  /** v128.load64_splat: one f64 from memory into both lanes. */
  v128Load64Splat(offset = 0): this {
    this.bytes.push(0xfd, 0x0a)
    return this.mem([], 3, offset)
  }
  /** v128.const 0 (both f64 lanes +0). */
  v128Zero(): this {
    this.bytes.push(0xfd, 0x0c, ...new Array<number>(16).fill(0))
    return this
  }
  f64x2Splat(): this {
    return this.simd(0x14)
  }
  f64x2ExtractLane(lane: 0 | 1): this {
    this.simd(0x21)
    this.bytes.push(lane)
    return this
  }
  f64x2ReplaceLane(lane: 0 | 1): this {
    this.simd(0x22)
    this.bytes.push(lane)
    return this
  }
  f64x2Add(): this {
    return this.simd(0xf0)
  }
  f64x2Mul(): this {
    return this.simd(0xf2)
  }
  block(): this {
    this.bytes.push(0x02, 0x40)
    return this
  }
  loop(): this {
    this.bytes.push(0x03, 0x40)
    return this
  }
  if(): this {
    this.bytes.push(0x04, 0x40)
    return this
  }
  else(): this {
    this.bytes.push(0x05)
    return this
  }
  end(): this {
    this.bytes.push(0x0b)
    return this
  }
  br(depth: number): this {
    this.bytes.push(0x0c)
    uleb(depth, this.bytes)
    return this
  }
  brIf(depth: number): this {
    this.bytes.push(0x0d)
    uleb(depth, this.bytes)
    return this
  }
  call(index: number): this {
    this.bytes.push(0x10)
    uleb(index, this.bytes)
    return this
  }
}

/** A function to import from the host (module "env"). */
export interface WasmImport {
  readonly name: string
  readonly params: ReadonlyArray<ValType>
  readonly results: ReadonlyArray<ValType>
}

/** A function defined in the module; exported under `name`. Its index is imports.length + position. */
export interface WasmFunction {
  readonly name: string
  readonly params: ReadonlyArray<ValType>
  readonly results: ReadonlyArray<ValType>
  /** The types of the locals after the parameters. */
  readonly locals: ReadonlyArray<ValType>
  readonly code: WasmCode
}

const utf8 = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)]
  const out: number[] = []
  uleb(b.length, out)
  out.push(...b)
  return out
}

const vector = (items: ReadonlyArray<ReadonlyArray<number>>, out: number[]): void => {
  uleb(items.length, out)
  for (const it of items) out.push(...it)
}

const section = (id: number, body: ReadonlyArray<number>, out: number[]): void => {
  out.push(id)
  uleb(body.length, out)
  out.push(...body)
}

/**
 * The bytes of a module with the given imports (from "env") and functions, one memory of
 * `minPages` 64 KiB pages (growable, no maximum) exported as "memory", and every function
 * exported under its name.
 */
export const wasmModule = (imports: ReadonlyArray<WasmImport>, fns: ReadonlyArray<WasmFunction>, minPages = 1): Uint8Array => {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const types: number[][] = []
  const typeOf = (params: ReadonlyArray<ValType>, results: ReadonlyArray<ValType>): number => {
    const t = [0x60]
    vector(params.map((p) => [p]), t)
    vector(results.map((r) => [r]), t)
    types.push(t)
    return types.length - 1
  }
  const importTypes = imports.map((i) => typeOf(i.params, i.results))
  const fnTypes = fns.map((f) => typeOf(f.params, f.results))
  const body: number[] = []
  vector(types, body)
  section(1, body, out)

  body.length = 0
  vector(
    imports.map((im, k) => {
      const e = [...utf8('env'), ...utf8(im.name), 0x00]
      uleb(importTypes[k]!, e)
      return e
    }),
    body,
  )
  section(2, body, out)

  body.length = 0
  vector(
    fnTypes.map((t) => {
      const e: number[] = []
      uleb(t, e)
      return e
    }),
    body,
  )
  section(3, body, out)

  body.length = 0
  body.push(0x01, 0x00)
  uleb(minPages, body)
  section(5, body, out)

  body.length = 0
  const exports: number[][] = [[...utf8('memory'), 0x02, 0x00]]
  fns.forEach((f, k) => {
    const e = [...utf8(f.name), 0x00]
    uleb(imports.length + k, e)
    exports.push(e)
  })
  vector(exports, body)
  section(7, body, out)

  body.length = 0
  vector(
    fns.map((f) => {
      const runs: Array<[number, ValType]> = []
      for (const t of f.locals) {
        const last = runs[runs.length - 1]
        if (last !== undefined && last[1] === t) last[0]++
        else runs.push([1, t])
      }
      const fb: number[] = []
      vector(
        runs.map(([count, t]) => {
          const e: number[] = []
          uleb(count, e)
          e.push(t)
          return e
        }),
        fb,
      )
      fb.push(...f.code.bytes, 0x0b)
      const e: number[] = []
      uleb(fb.length, e)
      e.push(...fb)
      return e
    }),
    body,
  )
  section(10, body, out)
  return Uint8Array.from(out)
}
