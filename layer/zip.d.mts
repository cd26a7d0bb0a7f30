export interface ZipEntry {
  path: string;
  data: Buffer;
  mode: number;
}
export function crc32(buf: Uint8Array): number;
export function collectFiles(dir: string, exclude?: (path: string) => boolean): ZipEntry[];
export function zipFiles(files: ZipEntry[]): Buffer;
