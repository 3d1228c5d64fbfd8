// The encoder against the WebAssembly runtime itself: modules it writes validate, constants
// survive their LEB128 encoding at every boundary, memory offsets past one byte work, and the
// f64x2 instructions compute lane by lane what JavaScript computes on each lane.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { F64, I32, WasmCode, wasmModule, type WasmFunction } from './wasmEncoder.js'

interface Api {
  validate(b: Uint8Array): boolean
  Module: new (b: Uint8Array) => object
  Instance: new (m: object, i: object) => { exports: Record<string, unknown> }
}
const api = (globalThis as unknown as { WebAssembly: Api }).WebAssembly

const instantiate = (bytes: Uint8Array): Record<string, unknown> => {
  expect(api.validate(bytes)).toBe(true)
  return new api.Instance(new api.Module(bytes), { env: { block: () => undefined } }).exports
}

describe('wasmEncoder', () => {
  it('i32 constants round-trip through signed LEB128 at every byte boundary', () => {
    const values = [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, -8192, -8193, 2 ** 20, -(2 ** 20), 2 ** 31 - 1, -(2 ** 31)]
    const fns = values.map((v, k): WasmFunction => ({ name: `c${k}`, params: [], results: [I32], locals: [], code: new WasmCode().i32Const(v) }))
    const ex = instantiate(wasmModule([], fns))
    values.forEach((v, k) => expect((ex[`c${k}`] as () => number)()).toBe(v))
  })

  it('rejects constants that are not i32 and offsets that are not u32', () => {
    expect(() => new WasmCode().i32Const(2 ** 31)).toThrow(RangeError)
    expect(() => new WasmCode().i32Const(0.5)).toThrow(RangeError)
    expect(() => new WasmCode().f64Load(-1)).toThrow(RangeError)
  })

  it('f64x2 multiply-add, splat loads and lane moves agree with JavaScript arithmetic lane by lane', () => {
    // f(a) reads [x0, x1] at a, [y0, y1] at a + 16 and s at a + 200 (a two-byte offset),
    // stores [x0·y0 + s, x1·y1 + s] at a + 32, then replaces lane 1 of that by x0 and returns it.
    const c = new WasmCode()
    c.localGet(0)
    c.localGet(0).v128Load().localGet(0).v128Load(16).f64x2Mul()
    c.localGet(0).v128Load64Splat(200).f64x2Add()
    c.v128Store(32)
    c.localGet(0).v128Load(32).localGet(0).f64Load().f64x2ReplaceLane(1).f64x2ExtractLane(1)
    const ex = instantiate(wasmModule([], [{ name: 'f', params: [I32], results: [F64], locals: [], code: c }]))
    const mem = new Float64Array((ex['memory'] as { buffer: ArrayBuffer }).buffer)
    const f = ex['f'] as (a: number) => number
    const num = fc.double({ noNaN: true, min: -1e300, max: 1e300 })
    fc.assert(
      fc.property(num, num, num, num, num, (x0, x1, y0, y1, s) => {
        mem.set([x0, x1, y0, y1], 0)
        mem[25] = s
        expect(Object.is(f(0), x0)).toBe(true)
        expect(Object.is(mem[4], x0 * y0 + s)).toBe(true)
        expect(Object.is(mem[5], x1 * y1 + s)).toBe(true)
      }),
    )
  })
})
