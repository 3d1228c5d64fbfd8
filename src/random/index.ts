export * from './rng.js'
