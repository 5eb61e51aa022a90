#!/usr/bin/env bash
# The Maven Central bundle (the release profile runs it in dist's package phase, after every published module):
#   central-bundle.sh VERSION TARGET      (run from the repository root)
# Lays out every published artifact in repository layout under TARGET/central-staging (the parent and BOM POMs; for
# each library module its POM, jar, sources jar and javadoc jar; the linux-x86_64 kernels jar), adds .md5 and .sha1
# files, signs each file with GPG when a key is available (LONGCONV_GPG_KEY names one, else gpg's default secret
# key), and zips it all into TARGET/central-bundle.zip for the Central Portal's upload.
set -euo pipefail
version=$1
target=$2
stage=$target/central-staging
rm -rf "$stage" "$target/central-bundle.zip"
mkdir -p "$stage"
files=()

put() { # put SOURCE ARTIFACT_ID FILE_SUFFIX: copies SOURCE to dev/longconv/ARTIFACT_ID/VERSION/ARTIFACT_ID-VERSION<suffix>
  local src=$1 artifact=$2 suffix=$3
  [ -f "$src" ] || { echo "[longconv] central bundle: $src is missing (was the module built?)" >&2; exit 1; }
  local dir=$stage/dev/longconv/$artifact/$version
  mkdir -p "$dir"
  cp "$src" "$dir/$artifact-$version$suffix"
  files+=("$dir/$artifact-$version$suffix")
}

put pom.xml longconv-parent .pom
put bom/pom.xml longconv-bom .pom
for module in kernels-cuda simd-cpu native-bindings ops cuda; do
  artifact=longconv-$module
  put "$module/pom.xml" "$artifact" .pom
  for suffix in .jar -sources.jar -javadoc.jar; do put "$module/target/$artifact-$version$suffix" "$artifact" "$suffix"; done
done
kernels=kernels-cuda/target/longconv-kernels-cuda-$version-linux-x86_64.jar
if ! unzip -l "$kernels" 2>/dev/null | grep -q 'liblongconv_cuda.so$'; then
  echo "[longconv] central bundle: $kernels has no liblongconv_cuda.so (build with nvcc: the release profile requires it)" >&2
  exit 1
fi
put "$kernels" longconv-kernels-cuda -linux-x86_64.jar

for f in "${files[@]}"; do
  md5sum "$f" | cut -d' ' -f1 > "$f.md5"
  sha1sum "$f" | cut -d' ' -f1 > "$f.sha1"
done

key=${LONGCONV_GPG_KEY:-}
if command -v gpg >/dev/null 2>&1 && { [ -n "$key" ] || gpg --batch --list-secret-keys 2>/dev/null | grep -q '^sec'; }; then
  for f in "${files[@]}"; do
    gpg --batch --yes --armor --detach-sign ${key:+--local-user "$key"} --output "$f.asc" "$f"
  done
  signed="signed${key:+ with $key}"
else
  echo "[longconv] signing skipped: no GPG key configured (import one, or set LONGCONV_GPG_KEY); Maven Central refuses unsigned bundles"
  signed="NOT signed"
fi

jar=${JAVA_HOME:+$JAVA_HOME/bin/}jar
(cd "$stage" && "$jar" --create --no-manifest --file ../central-bundle.zip dev)
case "$version" in
  *-SNAPSHOT) echo "[longconv] note: $version is a snapshot version; the Central Portal accepts release versions only" ;;
esac
echo "[longconv] central bundle: $target/central-bundle.zip (${#files[@]} files, $signed)"
