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
  /** Appends the bytes of an instruction without immediates (or with fixed ones). */
  private op(...bytes: number[]): this {
    this.bytes.push(...bytes)
    return this
  }
  /** Appends the opcode bytes, then an unsigned LEB128 immediate (an index, a depth, a SIMD opcode). */
  private opU32(opcode: ReadonlyArray<number>, n: number): this {
    this.bytes.push(...opcode)
    uleb(n, this.bytes)
    return this
  }
  /** A memory instruction: opcode, alignment exponent, static offset. */
  private mem(opcode: ReadonlyArray<number>, align: number, offset: number): this {
    return this.opU32([...opcode, align], offset)
  }
  private simd(op: number): this {
    return this.opU32([0xfd], op)
  }
  localGet(i: number): this { return this.opU32([0x20], i) }
  localSet(i: number): this { return this.opU32([0x21], i) }
  i32Const(v: number): this {
    this.bytes.push(0x41)
    sleb(v, this.bytes)
    return this
  }
  /** f64.const +0. */
  f64Zero(): this { return this.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0) }
  i32Load(offset = 0): this { return this.mem([0x28], 2, offset) }
  f64Load(offset = 0): this { return this.mem([0x2b], 3, offset) }
  f64Store(offset = 0): this { return this.mem([0x39], 3, offset) }
  i32Eqz(): this { return this.op(0x45) }
  i32Add(): this { return this.op(0x6a) }
  i32Sub(): this { return this.op(0x6b) }
  i32Mul(): this { return this.op(0x6c) }
  i32And(): this { return this.op(0x71) }
  i32Shl(): this { return this.op(0x74) }
  i32LtS(): this { return this.op(0x48) }
  i32GtS(): this { return this.op(0x4a) }
  i32LeS(): this { return this.op(0x4c) }
  i32GeS(): this { return this.op(0x4e) }
  f64Ne(): this { return this.op(0x62) }
  f64Add(): this { return this.op(0xa0) }
  f64Mul(): this { return this.op(0xa2) }
  /** select: [a, b, cond] → cond ≠ 0 ? a : b. */
  select(): this { return this.op(0x1b) }
  /** v128.load with an 8-byte alignment hint (rows need not be 16-byte aligned). */
  v128Load(offset = 0): this { return this.mem([0xfd, 0x00], 3, offset) }
  v128Store(offset = 0): this { return this.mem([0xfd, 0x0b], 3, offset) }
  /** v128.load64_splat: one f64 from memory into both lanes. */
  v128Load64Splat(offset = 0): this { return this.mem([0xfd, 0x0a], 3, offset) }
  /** v128.const 0 (both f64 lanes +0). */
  v128Zero(): this { return this.op(0xfd, 0x0c, ...new Array<number>(16).fill(0)) }
  f64x2Splat(): this { return this.simd(0x14) }
  f64x2ExtractLane(lane: 0 | 1): this { return this.simd(0x21).op(lane) }
  f64x2ReplaceLane(lane: 0 | 1): this { return this.simd(0x22).op(lane) }
  f64x2Add(): this { return this.simd(0xf0) }
  f64x2Mul(): this { return this.simd(0xf2) }
  block(): this { return this.op(0x02, 0x40) }
  loop(): this { return this.op(0x03, 0x40) }
  if(): this { return this.op(0x04, 0x40) }
  else(): this { return this.op(0x05) }
  end(): this { return this.op(0x0b) }
  br(depth: number): this { return this.opU32([0x0c], depth) }
  brIf(depth: number): this { return this.opU32([0x0d], depth) }
  call(index: number): this { return this.opU32([0x10], index) }
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

/** n as an unsigned LEB128. */
const u32 = (n: number): number[] => {
  const out: number[] = []
  uleb(n, out)
  return out
}

/** s as a name: its UTF-8 length, then its bytes. */
const utf8 = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)]
  return [...u32(b.length), ...b]
}

/** A vector: its length, then its items' bytes. */
const vector = (items: ReadonlyArray<ReadonlyArray<number>>): number[] => {
  const out = u32(items.length)
  for (const it of items) out.push(...it)
  return out
}

/** Appends section `id` holding `body` (prefixed by its byte length). */
const section = (id: number, body: ReadonlyArray<number>, out: number[]): void => {
  out.push(id, ...u32(body.length), ...body)
}

/** The locals of a function body: runs of equal types, each as (count, type). */
const localRuns = (locals: ReadonlyArray<ValType>): number[][] => {
  const runs: Array<[number, ValType]> = []
  for (const t of locals) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last[1] === t) last[0]++
    else runs.push([1, t])
  }
  return runs.map(([count, t]) => [...u32(count), t])
}

/**
 * The bytes of a module with the given imports (from "env") and functions, one memory of
 * `minPages` 64 KiB pages (growable, no maximum) exported as "memory", and every function
 * exported under its name.
 */
export const wasmModule = (imports: ReadonlyArray<WasmImport>, fns: ReadonlyArray<WasmFunction>, minPages = 1): Uint8Array => {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  const funcType = (f: WasmImport): number[] => [0x60, ...vector(f.params.map((p) => [p])), ...vector(f.results.map((r) => [r]))]
  // Type section: one type per import, then one per function, in that order.
  section(1, vector([...imports, ...fns].map(funcType)), out)
  section(2, vector(imports.map((im, k) => [...utf8('env'), ...utf8(im.name), 0x00, ...u32(k)])), out)
  section(3, vector(fns.map((_f, k) => u32(imports.length + k))), out)
  section(5, [0x01, 0x00, ...u32(minPages)], out)
  const exports = [[...utf8('memory'), 0x02, 0x00], ...fns.map((f, k) => [...utf8(f.name), 0x00, ...u32(imports.length + k)])]
  section(7, vector(exports), out)
  const code = fns.map((f) => {
    const body = [...vector(localRuns(f.locals)), ...f.code.bytes, 0x0b]
    return [...u32(body.length), ...body]
  })
  section(10, vector(code), out)
  return Uint8Array.from(out)
}
