/**
 * Makes a one-layer OCI image layout of a busybox rootfs (from the host's
 * static /bin/busybox) for interop tests.
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { type Digest, digestHex, sha256 } from "../../lib/digest.ts";

/** Where the test's static busybox comes from (Debian's busybox-static). */
export const BUSYBOX = "/bin/busybox";

async function writeBlob(dir: string, data: Uint8Array): Promise<{ digest: Digest; size: number }> {
  const digest = sha256(data);
  await Deno.writeFile(`${dir}/blobs/sha256/${digestHex(digest)}`, data);
  return { digest, size: data.byteLength };
}

/**
 * Writes an OCI layout at `dir` holding one image tagged `tag`, and an
 * index over it tagged `<tag>-index`.
 * @returns the manifest's digest
 */
export async function makeBusyboxLayout(dir: string, tag: string): Promise<Digest> {
  const rootfs = await Deno.makeTempDir({ prefix: "berth-rootfs-" });
  try {
    await Deno.mkdir(`${rootfs}/bin`);
    await Deno.copyFile(BUSYBOX, `${rootfs}/bin/busybox`);
    await Deno.symlink("busybox", `${rootfs}/bin/sh`);
    const tar = await new Deno.Command("tar", {
      args: [
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mtime=@0",
        "-C",
        rootfs,
        "-cf",
        "-",
        "bin",
      ],
      stdout: "piped",
    }).output();
    if (!tar.success) throw new Error("tar failed");
    await Deno.mkdir(`${dir}/blobs/sha256`, { recursive: true });
    const layer = await writeBlob(dir, gzipSync(tar.stdout));
    const config = await writeBlob(
      dir,
      new TextEncoder().encode(JSON.stringify({
        architecture: "amd64",
        os: "linux",
        config: { Cmd: ["/bin/sh"] },
        rootfs: { type: "layers", diff_ids: [sha256(tar.stdout)] },
      })),
    );
    const manifest = await writeBlob(
      dir,
      new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
      })),
    );
    await Deno.writeTextFile(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    const image = { mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest };
    // Also an image index over the manifest, tagged `<tag>-index`.
    const index = await writeBlob(
      dir,
      new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{ ...image, platform: { architecture: "amd64", os: "linux" } }],
      })),
    );
    await Deno.writeTextFile(
      `${dir}/index.json`,
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          { ...image, annotations: { "org.opencontainers.image.ref.name": tag } },
          {
            mediaType: "application/vnd.oci.image.index.v1+json",
            ...index,
            annotations: { "org.opencontainers.image.ref.name": `${tag}-index` },
          },
        ],
      }),
    );
    return manifest.digest;
  } finally {
    await Deno.remove(rootfs, { recursive: true });
  }
}
