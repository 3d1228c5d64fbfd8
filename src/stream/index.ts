export * from './stream.js'
