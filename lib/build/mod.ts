/**
 * Dockerfile handling. So far: single instructions as `import --change`
 * takes them, applied to an image config; the builder comes with its issue.
 *
 * @example
 * ```ts
 * import { applyChanges } from "./lib/build/mod.ts";
 * const config = applyChanges({}, ['CMD ["sh"]', "ENV A=1"]);
 * ```
 * @module
 */
export {
  applyChanges,
  CHANGE_INSTRUCTIONS,
  type Instruction,
  parseInstruction,
  parseJsonArray,
  parseKeyValues,
  splitWords,
} from "./instruction.ts";
