import { MemoryStorage } from "./memory_storage.ts";
import { storageContract } from "./storage.case.ts";

storageContract(
  "MemoryStorage",
  () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
);
