// seqwrite: 64 KiB sequential writes in GB/s (the shared loop lives in seqread.ts).
export { seqwriteWorkload, SEQ_DEFAULTS } from './seqread';
