#!/bin/sh
# One-shot set-up of the `scale` profile's MinIO (service minio-init in docker-compose.yml, see
# docs/docker-scale.md): the bucket for attachments and avatars, and the API's own access key,
# which may use that bucket only (the root credentials stay with MinIO and this script).
# Safe to run again: what exists is kept, and the key's secret is set to the configured one.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${S3_BUCKET:?}"
: "${TASKLANE_ACCESS_KEY:?}" "${TASKLANE_SECRET_KEY:?}"
endpoint="${MINIO_ENDPOINT:-http://minio:9000}"
policy_name=tasklane-bucket-readwrite

# minio-init starts once minio is healthy; the retries cover a server still settling
attempt=1
until mc alias set scale "$endpoint" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null; do
  if [ "$attempt" -ge 10 ]; then
    echo "minio-init: MinIO at $endpoint did not accept the root credentials" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

mc mb --ignore-existing "scale/$S3_BUCKET"

# What the API does with its files: put (multipart for large ones), get (ranges), delete, list
policy_file=$(mktemp)
cat >"$policy_file" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET"]
    },
    {
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts"
      ],
      "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]
    }
  ]
}
JSON
mc admin policy create scale "$policy_name" "$policy_file" >/dev/null
rm -f "$policy_file"

# Adding a user that exists sets its secret
mc admin user add scale "$TASKLANE_ACCESS_KEY" "$TASKLANE_SECRET_KEY" >/dev/null
if ! out=$(mc admin policy attach scale "$policy_name" --user "$TASKLANE_ACCESS_KEY" 2>&1); then
  # Attached by an earlier run: MinIO answers that the change is already in effect, and the
  # user's policy line names it. Anything else is a real failure.
  if ! echo "$out" | grep -qi 'already in effect' &&
    ! mc admin user info scale "$TASKLANE_ACCESS_KEY" | grep -i 'policy' | grep -q "$policy_name"; then
    echo "$out" >&2
    exit 1
  fi
fi

echo "minio-init: bucket $S3_BUCKET ready; key $TASKLANE_ACCESS_KEY may use it (policy $policy_name)"
