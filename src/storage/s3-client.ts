/**
 * kstream's client for one S3-compatible bucket: what the storage floor needs and nothing more.
 *
 *   putIfAbsent(key, bytes)  the object appears whole in one request or not at all, and never over
 *                            an existing one: a single PUT with `If-None-Match: *`, or for large
 *                            objects a multipart upload completed (again with `If-None-Match: *`)
 *                            only after every part is uploaded, aborted on any failure
 *   head / list / delete / getRange   plain reads and deletes
 *
 * Reads, listings and deletes go through Bun's built-in S3 client. Writes do not: Bun.S3Client
 * (Bun 1.4) has no way to send `If-None-Match` on a PUT nor to complete a multipart upload
 * conditionally, and its writer decides on its own when to go multipart. They are plain fetches
 * signed by aws4fetch (SigV4; MIT, no dependencies), so create-only is the store's decision, made
 * atomically, rather than a racy look-before-write.
 *
 * Every failure is a StorageError of one line naming the operation, bucket, key and the store's
 * error code; a refused signature names where the secret came from, never the secret.
 */
import { AwsClient } from "aws4fetch";
import { StorageError } from "../errors.ts";
import { crashPoint } from "../faults.ts";
import type { S3Settings } from "./s3-config.ts";

/** Below this size one PUT; from it, multipart. S3 needs parts of at least 5 MiB but the last. */
export const MULTIPART_THRESHOLD = 8 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;

export type PutOutcome = "created" | "exists";

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string | undefined;
  lastModified: Date | undefined;
}

export interface S3Store {
  readonly bucket: string;
  /** "created", or "exists" when an object of that key was there already (it is left unchanged). */
  putIfAbsent(key: string, bytes: Uint8Array): Promise<PutOutcome>;
  /** Size and ETag, or undefined when there is no such object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix, in key order (all pages). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Deletes the object; deleting one that does not exist is not an error (S3's rule). */
  delete(key: string): Promise<void>;
  /** Bytes [start, end) of the object, end exclusive like Uint8Array.slice. */
  getRange(key: string, start: number, end: number): Promise<Uint8Array>;
}

export interface S3StoreOptions {
  multipartThreshold?: number;
  partSize?: number;
  /** Look (HEAD) before a multipart upload, to skip it when the key is taken (default true). The
   * completion is create-only either way; this only saves sending the parts for nothing. */
  headBeforeMultipart?: boolean;
}

/** The text of the first <name> element of an S3 XML document (its answers are flat enough). */
function xmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]?.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
}

const escapeXml = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/** Codes that mean the credentials are wrong, as S3 and its clones name them. */
const CREDENTIAL_CODES = new Set(["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "InvalidSecurity", "ERR_S3_INVALID_SIGNATURE"]);

export function createS3Store(settings: S3Settings, options: S3StoreOptions = {}): S3Store {
  const threshold = options.multipartThreshold ?? MULTIPART_THRESHOLD;
  const partSize = options.partSize ?? PART_SIZE;
  const headBeforeMultipart = options.headBeforeMultipart ?? true;
  if (partSize < 5 * 1024 * 1024) throw new StorageError(`S3 multipart parts must be at least 5 MiB (got ${partSize} bytes)`);
  const { bucket, endpoint } = settings;
  const where = `s3://${bucket} at ${endpoint}`;

  const bun = new Bun.S3Client({
    bucket,
    endpoint,
    region: settings.region,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    sessionToken: settings.sessionToken,
    virtualHostedStyle: !settings.pathStyle,
  });
  const signer = new AwsClient({
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    sessionToken: settings.sessionToken,
    service: "s3",
    region: settings.region,
    // A retry of a conditional PUT whose first attempt landed would see 412 and report "exists" for
    // an object this very call created; the caller's own retry policy decides instead.
    retries: 0,
  });

  const objectUrl = (key: string, query = "") => {
    const path = key.split("/").map(encodeURIComponent).join("/");
    if (settings.pathStyle) return `${endpoint}/${bucket}/${path}${query}`;
    const url = new URL(endpoint);
    return `${url.protocol}//${bucket}.${url.host}/${path}${query}`;
  };

  /** One line for a refused or failed request; a credentials refusal says where the secret came from. */
  const failure = (operation: string, key: string, status: number | undefined, code: string | undefined, detail: string | undefined, cause?: unknown) => {
    const subject = `${operation} ${key ? `${key} in ` : ""}${where}`;
    if (code && CREDENTIAL_CODES.has(code)) {
      return new StorageError(
        `${subject}: the store refused the credentials (${code}); check the access key id (${settings.sources.accessKeyId}) and the secret (${settings.sources.secretAccessKey})`,
        { storeCode: code, context: { bucket, key, status }, cause },
      );
    }
    const retriable = status === undefined || status >= 500 || status === 429;
    const what = [status && `HTTP ${status}`, code, detail].filter(Boolean).join(" ");
    return new StorageError(`${subject} failed: ${what || "no answer"}`, { retriable, storeCode: code, context: { bucket, key, status }, cause });
  };

  const signedFetch = async (operation: string, key: string, url: string, init: RequestInit) => {
    try {
      return await signer.fetch(url, init);
    } catch (error) {
      throw failure(operation, key, undefined, undefined, (error as Error).message.split("\n")[0], error);
    }
  };

  const refused = async (operation: string, key: string, response: Response) => {
    const body = await response.text().catch(() => "");
    return failure(operation, key, response.status, xmlText(body, "Code"), xmlText(body, "Message"));
  };

  /** Bun.S3Client's errors (S3Error with .code, or a fetch error) as a StorageError. */
  const fromBun = (operation: string, key: string, error: unknown) => {
    const e = error as { code?: string; message?: string; name?: string };
    const code = e.name === "S3Error" || typeof e.code === "string" ? e.code : undefined;
    return failure(operation, key, undefined, code, e.message?.split("\n")[0], error);
  };

  async function putSingle(key: string, bytes: Uint8Array): Promise<PutOutcome> {
    const response = await signedFetch("PUT", key, objectUrl(key), {
      method: "PUT",
      body: bytes,
      headers: { "If-None-Match": "*", "Content-Type": "application/octet-stream" },
    });
    if (response.status === 412) {
      await response.body?.cancel();
      return "exists";
    }
    if (!response.ok) throw await refused("PUT", key, response);
    await response.body?.cancel();
    return "created";
  }

  async function abort(key: string, uploadId: string): Promise<void> {
    // Best effort: the upload failed already and that error is the one to report; a store keeps an
    // unaborted upload invisible (and a lifecycle rule removes it), so nothing half-written shows.
    try {
      const response = await signer.fetch(objectUrl(key, `?uploadId=${encodeURIComponent(uploadId)}`), { method: "DELETE" });
      await response.body?.cancel();
    } catch {}
  }

  async function putMultipart(key: string, bytes: Uint8Array): Promise<PutOutcome> {
    // Refuse early when the key is taken: the store would refuse the completion anyway, after
    // every part had been sent for nothing.
    if (headBeforeMultipart && (await head(key)) !== undefined) return "exists";
    const created = await signedFetch("CreateMultipartUpload", key, objectUrl(key, "?uploads"), {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (!created.ok) throw await refused("CreateMultipartUpload", key, created);
    const uploadId = xmlText(await created.text(), "UploadId");
    if (!uploadId) throw failure("CreateMultipartUpload", key, created.status, undefined, "no UploadId in the answer");
    try {
      const etags: string[] = [];
      for (let offset = 0, number = 1; offset < bytes.length; offset += partSize, number++) {
        const part = bytes.subarray(offset, Math.min(offset + partSize, bytes.length));
        const response = await signedFetch(`UploadPart ${number}`, key, objectUrl(key, `?partNumber=${number}&uploadId=${encodeURIComponent(uploadId)}`), {
          method: "PUT",
          body: part,
        });
        if (!response.ok) throw await refused(`UploadPart ${number}`, key, response);
        await response.body?.cancel();
        const etag = response.headers.get("ETag");
        if (!etag) throw failure(`UploadPart ${number}`, key, response.status, undefined, "no ETag in the answer");
        etags.push(etag);
        // A kill here leaves an upload that was never completed: no object, nothing to recover.
        if (number === 1) crashPoint("mid-multipart");
      }
      const manifest = `<CompleteMultipartUpload>${etags
        .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`)
        .join("")}</CompleteMultipartUpload>`;
      const completed = await signedFetch("CompleteMultipartUpload", key, objectUrl(key, `?uploadId=${encodeURIComponent(uploadId)}`), {
        method: "POST",
        body: manifest,
        headers: { "If-None-Match": "*", "Content-Type": "application/xml" },
      });
      if (completed.status === 412) {
        await completed.body?.cancel();
        await abort(key, uploadId);
        return "exists";
      }
      // S3 may answer 200 and report an error in the body (it streams the answer while assembling).
      const body = await completed.text();
      const code = xmlText(body, "Code");
      if (code === "PreconditionFailed") {
        await abort(key, uploadId);
        return "exists";
      }
      if (!completed.ok || code !== undefined) throw failure("CompleteMultipartUpload", key, completed.status, code, xmlText(body, "Message"));
      return "created";
    } catch (error) {
      await abort(key, uploadId);
      throw error;
    }
  }

  async function head(key: string): Promise<ObjectInfo | undefined> {
    const response = await signedFetch("HEAD", key, objectUrl(key), { method: "HEAD" });
    if (response.status === 404) return undefined;
    // HEAD answers carry no body, so no error code: a 403 is all there is to tell a bad signature.
    if (response.status === 403) throw failure("HEAD", key, 403, "AccessDenied", undefined);
    if (!response.ok) throw failure("HEAD", key, response.status, undefined, undefined);
    const lastModified = response.headers.get("Last-Modified");
    return {
      key,
      size: Number(response.headers.get("Content-Length") ?? 0),
      etag: response.headers.get("ETag") ?? undefined,
      lastModified: lastModified ? new Date(lastModified) : undefined,
    };
  }

  return {
    bucket,
    putIfAbsent(key, bytes) {
      return bytes.length < threshold ? putSingle(key, bytes) : putMultipart(key, bytes);
    },
    head,
    async list(prefix) {
      const objects: ObjectInfo[] = [];
      let continuationToken: string | undefined;
      do {
        let page: Awaited<ReturnType<typeof bun.list>>;
        try {
          page = await bun.list({ prefix, continuationToken, maxKeys: 1000 });
        } catch (error) {
          throw fromBun("LIST", prefix, error);
        }
        for (const item of page.contents ?? []) {
          objects.push({
            key: item.key,
            size: item.size ?? 0,
            etag: item.eTag,
            lastModified: item.lastModified ? new Date(item.lastModified) : undefined,
          });
        }
        continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (continuationToken);
      return objects;
    },
    async delete(key) {
      try {
        await bun.delete(key);
      } catch (error) {
        throw fromBun("DELETE", key, error);
      }
    },
    async getRange(key, start, end) {
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start < end)) {
        throw new StorageError(`GET ${key} in ${where}: a range needs whole numbers 0 <= start < end (got ${start}, ${end})`);
      }
      let bytes: ArrayBuffer;
      try {
        bytes = await bun.file(key).slice(start, end).arrayBuffer();
      } catch (error) {
        throw fromBun(`GET bytes ${start}-${end - 1} of`, key, error);
      }
      return new Uint8Array(bytes);
    },
  };
}
