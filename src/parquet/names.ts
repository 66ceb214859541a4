/** Moved to src/storage/names.ts (the storage leaf); this path stays importable. */
export * from "../storage/names.ts";
