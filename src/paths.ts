/**
 * Where the project's own files are (spec/, …), for code that runs from src/ under tsx and
 * from dist/src/ once built: both sit below the folder holding package.json, so that folder
 * is found once by walking up, and files are named relative to it.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The folder holding package.json (the repository, or the container's /app). */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** An absolute path to a project file, e.g. projectPath('spec', 'verify.yaml'). */
export function projectPath(...segments: string[]): string {
  return join(PROJECT_ROOT, ...segments);
}
