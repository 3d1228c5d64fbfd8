/**
 * The memory slots of the row engine: the compiled kernel module and the WebAssembly instances
 * (each with its own memory) that engines copy their matrices into.
 *
 * At most {@link ROW_ENGINE_SLOTS} instances live at once. An engine holds a slot while it is the
 * most recently used; a new engine takes the least recently used slot and its memory (the engine
 * that loses it rebuilds its copy in another slot when it is used again). Without the cap, the
 * copies of matrices that are no longer used would stay resident until the garbage collector
 * reclaims them, which may take several of them (experiments that load one data split after
 * another).
 *
 * Graceful degradation. WebAssembly memory is reserved in large blocks of address space, which a
 * limit on virtual memory (`ulimit -v`, common on shared clusters) may refuse. When a new instance
 * cannot be had, the engines share the slots that exist; when none exists, or a slot's memory
 * cannot grow to what an engine needs, the engine declines and the caller runs the TypeScript
 * kernels, which return the same bits. Either way one note goes to standard error, once per
 * process; the failure is never reported as a fault of the caller's input.
 */
import { rowKernelModuleBytes, type RowKernels } from './codegen.js'

/** The part of the host's WebAssembly API the engine uses (the library's TypeScript lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
type WasmCompiled = object
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  readonly Module: new (bytes: Uint8Array) => WasmCompiled
  readonly Instance: new (mod: WasmCompiled, imports: object) => { readonly exports: unknown }
}

const wasmApi = (): WasmApi | undefined => (globalThis as { readonly WebAssembly?: WasmApi }).WebAssembly

let compiled: WasmCompiled | null | undefined

/** The compiled module, or null when this runtime has no WebAssembly SIMD. */
const compiledModule = (): WasmCompiled | null => {
  if (compiled !== undefined) return compiled
  let result: WasmCompiled | null = null
  try {
    const api = wasmApi()
    if (api !== undefined) {
      const bytes = rowKernelModuleBytes()
      if (api.validate(bytes)) result = new api.Module(bytes)
    }
  } catch {
    result = null
  }
  compiled = result
  return result
}

/** True when the WebAssembly row kernels can run here (WebAssembly with fixed-width SIMD). */
export const rowEngineAvailable = (): boolean => compiledModule() !== null

/** Largest memory a slot uses (bytes): i32 addressing stays signed-safe below 2 GiB. */
export const MAX_BYTES = 2 ** 31 - 2 ** 20

/** At most this many WebAssembly instances (each with its memory) live at once. */
export const ROW_ENGINE_SLOTS = 2

/**
 * WebAssembly memory could not be had (an instance, or growth of its memory). Thrown inside the
 * engine and caught there: the engine then declines, and the TypeScript kernels run.
 */
export class SlotMemoryError extends Error {}

let noted = false

/** Say once per process, on standard error, that the row passes fall back to the TypeScript kernels. */
export const noteDegraded = (why: string): void => {
  if (noted) return
  noted = true
  const stderr = (globalThis as { readonly process?: { readonly stderr?: { write(s: string): unknown } } }).process?.stderr
  stderr?.write(`hypergrad: ${why}; the row passes run on the TypeScript kernels where needed (same results, slower)\n`)
}

/**
 * An engine's claim on a slot, invalidated when another engine takes the slot. The slot holds
 * the lease, never the engine: a slot must not keep an engine (and so its matrix) alive.
 */
export interface Lease {
  valid: boolean
}

type Exports = RowKernels & { readonly memory: WasmMemory }

/** One instance of the module: its exports, views of its memory, the top of its bump allocator. */
export class Slot {
  f64: Float64Array
  i32: Int32Array
  top = 0
  stamp = 0
  lease: Lease | undefined
  constructor(readonly ex: Exports) {
    this.f64 = new Float64Array(ex.memory.buffer)
    this.i32 = new Int32Array(ex.memory.buffer)
  }
  /**
   * Reserve `bytes` (16-byte aligned) at the top, growing the memory when needed. Throws a
   * SlotMemoryError when the slot's limit is passed or the memory cannot grow.
   */
  alloc(bytes: number): number {
    const at = Math.ceil(this.top / 16) * 16
    const end = at + bytes
    if (end > MAX_BYTES) throw new SlotMemoryError(`a row engine needs ${end} bytes, past the ${MAX_BYTES} of a WebAssembly memory`)
    const have = this.ex.memory.buffer.byteLength
    if (end > have) {
      try {
        this.ex.memory.grow(Math.ceil((end - have) / 65536))
      } catch (e) {
        throw new SlotMemoryError(`WebAssembly memory could not grow to ${end} bytes (${(e as Error).message})`)
      }
      this.f64 = new Float64Array(this.ex.memory.buffer)
      this.i32 = new Int32Array(this.ex.memory.buffer)
    }
    this.top = end
    return at
  }
  /** Give the slot up (its memory is reused first by the next engine that needs one). */
  release(lease: Lease): void {
    lease.valid = false
    if (this.lease !== lease) return
    this.lease = undefined
    this.top = 0
    this.stamp = 0
  }
}

const slots: Slot[] = []
let slotCap = ROW_ENGINE_SLOTS
let clock = 0

/** Mark a slot as just used (for the least-recently-used choice). */
export const touch = (slot: Slot): void => {
  slot.stamp = ++clock
}

const newSlot = (): Slot | undefined => {
  const api = wasmApi()
  const mod = compiledModule()
  if (api === undefined || mod === null) return undefined
  try {
    return new Slot(new api.Instance(mod, {}).exports as Exports)
  } catch (e) {
    // No memory for another instance: share the slots that exist from now on.
    slotCap = slots.length
    noteDegraded(`WebAssembly memory could not be allocated (${(e as Error).message})`)
    return undefined
  }
}

/**
 * A slot and a fresh lease on it: a new slot while fewer than the cap exist, else the least
 * recently used one, whose previous lease is invalidated and whose memory is reused. Throws a
 * SlotMemoryError when no WebAssembly memory can be had at all.
 */
export const takeSlot = (): { readonly slot: Slot; readonly lease: Lease } => {
  let slot: Slot | undefined
  if (slots.length < slotCap) {
    slot = newSlot()
    if (slot !== undefined) slots.push(slot)
  }
  if (slot === undefined) {
    if (slots.length === 0) throw new SlotMemoryError('no WebAssembly memory for the row engine')
    slot = slots.reduce((a, b) => (b.stamp < a.stamp ? b : a))
    if (slot.lease !== undefined) slot.lease.valid = false
    slot.top = 0
  }
  const lease: Lease = { valid: true }
  slot.lease = lease
  touch(slot)
  return { slot, lease }
}
