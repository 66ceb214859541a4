/** Moved to src/storage/listing.ts (the storage leaf); this path stays importable. */
export * from "../storage/listing.ts";
