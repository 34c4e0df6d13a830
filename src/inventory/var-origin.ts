// Records where each variable of a `vars:` mapping (or a whole vars file) is written, so that
// precedence (which definition won) and interpolation errors can name file:line.
import type { VarOrigin } from './precedence.ts';
import { formatPath, type PathSegment, type Position, type YamlFile } from './yaml-file.ts';

/** Origins of the variables in the mapping found at `path` of `yaml`. */
export function originsInFile(yaml: YamlFile, path: readonly PathSegment[], vars: Record<string, unknown>, layer: string): Record<string, VarOrigin> {
  const origin: Record<string, VarOrigin> = {};
  for (const [name, value] of Object.entries(vars)) {
    const keyPath = [...path, name];
    const nested: Record<string, Position> = {};
    collectTemplatePositions(yaml, keyPath, value, [name], nested);
    origin[name] = { layer, file: yaml.file, ...yaml.locate(keyPath, 'key'), ...(Object.keys(nested).length > 0 ? { nested } : {}) };
  }
  return origin;
}

// Only strings below the top level that use {{ }} need their own position: a top-level string is
// on its key's line, and strings without templates cannot fail interpolation.
function collectTemplatePositions(yaml: YamlFile, filePath: PathSegment[], value: unknown, varPath: PathSegment[], out: Record<string, Position>): void {
  if (typeof value === 'string') {
    if (varPath.length > 1 && value.includes('{{')) out[formatPath(varPath)] = yaml.locate(filePath);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => collectTemplatePositions(yaml, [...filePath, index], item, [...varPath, index], out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) collectTemplatePositions(yaml, [...filePath, key], item, [...varPath, key], out);
  }
}
