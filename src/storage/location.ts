/**
 * What `clean.parquet_dir` names: a local folder, or `s3://bucket/prefix` (a bucket of an
 * S3-compatible store, the objects' keys under the prefix). Pure; the config check and the store
 * chooser both use it, so a value the config accepts is one the store can open.
 */

export type ParquetLocation =
  | { readonly kind: "local"; readonly dir: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string };

/** "scheme://" in front: a URL, never a relative path to resolve against a folder. */
export const hasScheme = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The location, or a sentence saying why the text is not one (for the config's message). */
export function parseParquetLocation(text: string): ParquetLocation | string {
  if (!hasScheme(text)) return { kind: "local", dir: text };
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
  if (!match) return `only s3:// URLs and folders are supported, not ${JSON.stringify(text.split("://")[0] + "://")}`;
  const bucket = match[1]!;
  if (!BUCKET.test(bucket)) return `"${bucket}" is not a bucket name: 3-63 of a-z 0-9 . - (starting and ending with a letter or digit)`;
  const path = (match[2] ?? "").replace(/^\/+|\/+$/g, "");
  if (path.split("/").some((part) => part === "." || part === "..")) return "an S3 prefix cannot hold . or .. segments";
  // Keys are prefix + "ingest_date=…/…": the prefix, when there is one, ends with a slash.
  return { kind: "s3", bucket, prefix: path === "" ? "" : `${path}/` };
}
