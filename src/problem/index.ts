export * from './bilevel.js'
export * from './erm.js'
export * from './constants.js'
export * from './spectral.js'
