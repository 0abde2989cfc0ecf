// What a drop or a file input delivered, as a flat list of files with their path inside
// what was dropped ("Tapes/1987/birthday.mp4"). Folders are walked with the File and
// Directory Entries API where the browser offers it.

export interface PickedFile {
  file: File;
  /** Relative path with '/' separators; the file name for a loose file. */
  rel: string;
}

export interface DroppedItem {
  file: File | undefined;
  entry: FileSystemEntry | undefined;
}

/** Must run synchronously inside the drop handler: DataTransfer empties afterwards. */
export function itemsOf(dt: DataTransfer): DroppedItem[] {
  const items: DroppedItem[] = [];
  if (dt.items && dt.items.length > 0) {
    for (const item of dt.items) {
      if (item.kind !== 'file') continue;
      items.push({
        file: item.getAsFile() ?? undefined,
        entry: item.webkitGetAsEntry?.() ?? undefined,
      });
    }
    if (items.length > 0) return items;
  }
  for (const file of dt.files) items.push({ file, entry: undefined });
  return items;
}

export function relPathOf(file: File): string {
  const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  return rel ? rel : file.name;
}

/** Expands folders into their files (recursively); loose files keep their own name. */
export async function collectFiles(items: readonly DroppedItem[]): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  for (const item of items) {
    if (item.entry?.isDirectory) {
      await walk(item.entry as FileSystemDirectoryEntry, item.entry.name, out);
    } else if (item.file) {
      out.push({ file: item.file, rel: relPathOf(item.file) });
    }
  }
  return out;
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: PickedFile[]) {
  const reader = dir.createReader();
  // readEntries returns the listing in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return;
    for (const entry of batch) {
      const rel = `${prefix}/${entry.name}`;
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, rel, out);
      else {
        const file = await new Promise<File>((resolve, reject) =>
          (entry as FileSystemFileEntry).file(resolve, reject),
        );
        out.push({ file, rel });
      }
    }
  }
}

/** Hidden files and OS litter that nobody means to upload. */
export function isJunk(rel: string): boolean {
  const name = rel.split('/').pop() ?? rel;
  return name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
}
