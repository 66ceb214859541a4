/**
 * Machine output on stdout (--json, --prometheus, CSV to "-"). Awaits the write so nothing is lost
 * when the process exits right after, and treats a closed pipe (`| head`) as the reader's choice.
 */
import { errnoOf } from "../errors.ts";

export async function writeStdout(text: string): Promise<void> {
  try {
    await Bun.write(Bun.stdout, text);
  } catch (error) {
    if (errnoOf(error) !== "EPIPE") throw error;
  }
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_key, item) => (typeof item === "bigint" ? item.toString() : item), 2)}\n`;
}
