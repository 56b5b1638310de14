// Imported first by tests that need Ink's live rendering in-process: Ink reads CI/CONTINUOUS_INTEGRATION once, at
// import (the is-in-ci package), and under CI draws nothing until unmount. The product itself falls back to plain
// progress under CI (src/cli/live-screen.ts, tested on its own); these tests are about the live screen.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
export {};
