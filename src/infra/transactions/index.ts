export { TransactionsModule } from './transactions.module.js';
export { Transactions, isDuplicateKey } from './transactions.js';
