// Imported first by tests that check colours: chalk (through Ink) reads FORCE_COLOR once, at import, and a test
// process has no terminal, so it would draw none.
process.env.FORCE_COLOR = '1';
export {};
