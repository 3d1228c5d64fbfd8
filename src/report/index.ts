export * from './figure.js'
export * from './csv.js'
