/**
 * Media types of the OCI image spec and the Docker v2 (schema 2) image format, and the
 * classification of layer media types (compression, foreign/non-distributable).
 */

export const MediaType = {
  // Docker v2 schema 2
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  DockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  DockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerForeignLayerTar: 'application/vnd.docker.image.rootfs.foreign.diff.tar',
  DockerPluginConfig: 'application/vnd.docker.plugin.v1+json',
  // Docker v2 schema 1 (refused)
  DockerSchema1Manifest: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1SignedManifest: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  // OCI
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciNonDistributableLayerTar: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  OciNonDistributableLayerGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  OciNonDistributableLayerZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** What a registry is asked for in `Accept` when fetching a manifest (schema 1 deliberately absent). */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.OciIndex,
  MediaType.OciManifest,
  MediaType.DockerManifestList,
  MediaType.DockerManifest,
];

export const SCHEMA1_MEDIA_TYPES: readonly string[] = [
  MediaType.DockerSchema1Manifest,
  MediaType.DockerSchema1SignedManifest,
];

export function isIndexMediaType(mt: string): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

export function isImageManifestMediaType(mt: string): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

export function isSchema1MediaType(mt: string): boolean {
  return SCHEMA1_MEDIA_TYPES.includes(stripParams(mt));
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export interface LayerKind {
  compression: LayerCompression;
  /** Foreign (Docker) or non-distributable (OCI) layer: normally fetched from its `urls`, never pushed. */
  foreign: boolean;
}

const LAYER_KINDS: Record<string, LayerKind> = {
  [MediaType.DockerLayerGzip]: { compression: 'gzip', foreign: false },
  [MediaType.DockerLayerTar]: { compression: 'none', foreign: false },
  [MediaType.DockerLayerZstd]: { compression: 'zstd', foreign: false },
  [MediaType.DockerForeignLayerGzip]: { compression: 'gzip', foreign: true },
  [MediaType.DockerForeignLayerTar]: { compression: 'none', foreign: true },
  [MediaType.OciLayerTar]: { compression: 'none', foreign: false },
  [MediaType.OciLayerGzip]: { compression: 'gzip', foreign: false },
  [MediaType.OciLayerZstd]: { compression: 'zstd', foreign: false },
  [MediaType.OciNonDistributableLayerTar]: { compression: 'none', foreign: true },
  [MediaType.OciNonDistributableLayerGzip]: { compression: 'gzip', foreign: true },
  [MediaType.OciNonDistributableLayerZstd]: { compression: 'zstd', foreign: true },
};

/** Classify a layer media type; undefined when it is not a layer type tspod knows how to unpack. */
export function classifyLayer(mediaType: string): LayerKind | undefined {
  return LAYER_KINDS[stripParams(mediaType)];
}

/** The layer media type to use for a given manifest flavour and compression. */
export function layerMediaType(format: 'oci' | 'docker', compression: LayerCompression): string {
  if (format === 'oci') {
    return compression === 'gzip' ? MediaType.OciLayerGzip : compression === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayerTar;
  }
  return compression === 'gzip' ? MediaType.DockerLayerGzip : compression === 'zstd' ? MediaType.DockerLayerZstd : MediaType.DockerLayerTar;
}

/** `application/json; charset=utf-8` -> `application/json`. */
export function stripParams(mediaType: string): string {
  const i = mediaType.indexOf(';');
  return (i < 0 ? mediaType : mediaType.slice(0, i)).trim().toLowerCase();
}
