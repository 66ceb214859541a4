/**
 * The shapes of `kstream compact`: the small store it works through (so the same job runs on a
 * local folder or a bucket), the plan, and the summary.
 */

/** One entry of a date folder as the store lists it. */
export interface StoredFile {
  /** The name inside its folder (hidden names included: manifests). */
  readonly name: string;
  readonly size: number;
  /** Last modification, ms since the epoch. */
  readonly modifiedMs: number;
}

/**
 * What compact needs of where the Parquet files live. Folders are `ingest_date=…` names below the
 * store's root. Every write is durable when it returns; `put` is whole or nothing (a reader or a
 * restart sees the previous state or the whole new file, never part of it); `delete` of a missing
 * name succeeds.
 */
export interface CompactStore {
  /** Where the files live, for messages ("out/parquet", "s3://bucket/prefix"). */
  readonly location: string;
  listFolders(): Promise<string[]>;
  list(folder: string): Promise<StoredFile[]>;
  read(folder: string, name: string): Promise<Uint8Array>;
  put(folder: string, name: string, bytes: Uint8Array): Promise<void>;
  delete(folder: string, name: string): Promise<void>;
  /** Removes what an interrupted `put` of `name` may have left (a local temporary file; nothing on S3). */
  abandon(folder: string, name: string): Promise<void>;
}

/** A file of the input topic, as the planner sees it (from its name and the listing). */
export interface CandidateFile {
  readonly folder: string;
  readonly name: string;
  readonly partition: number;
  readonly firstOffset: bigint;
  readonly lastOffset: bigint;
  readonly size: number;
}

/** Files of one folder and one partition, consecutive in offset order, to become one merged file. */
export interface MergeGroup {
  readonly folder: string;
  readonly partition: number;
  readonly merged: string;
  readonly originals: readonly CandidateFile[];
  readonly bytes: number;
}

export interface CompactPlan {
  readonly groups: MergeGroup[];
  /** Folders old enough to compact (README "kstream compact": the closed-folder rule). */
  readonly closedFolders: string[];
  /** Files of closed folders left alone: at or past the committed offset, or already big enough. */
  readonly skipped: number;
}

export interface CompactSummary {
  readonly location: string;
  readonly folders: number;
  readonly files_before: number;
  readonly bytes_before: number;
  readonly files_after: number;
  readonly bytes_after: number;
  readonly merged_files: number;
  readonly rows: number;
  /** Swaps a killed run left half done, finished (merged file present) or undone (absent) by this run. */
  readonly resumed: number;
  readonly undone: number;
  readonly dry_run: boolean;
  readonly seconds: number;
}
