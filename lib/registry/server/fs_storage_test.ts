import { FsStorage } from "./fs_storage.ts";
import { storageContract } from "./storage.case.ts";

storageContract("FsStorage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "berth-fs-storage-" });
  return {
    storage: new FsStorage(`${dir}/registry`),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});
