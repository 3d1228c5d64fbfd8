export * from './bilevel.js'
export * from './erm.js'
