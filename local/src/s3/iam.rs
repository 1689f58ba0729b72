//! S3's IAM mapping: its operations under their IAM action names, on bucket and object ARNs.

use crate::iam::actions::{Asked, Scope};

/// An S3 request as s3s names its operation; `bucket` and `key` from its path.
pub fn asked(scope: &Scope, operation: &str, bucket: Option<&str>, key: Option<&str>) -> Asked {
    let action = match operation {
        "ListBuckets" => "ListAllMyBuckets",
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "ListBucket",
        "ListObjectVersions" => "ListBucketVersions",
        "GetPublicAccessBlock" => "GetBucketPublicAccessBlock",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "PutBucketPublicAccessBlock",
        "HeadObject" => "GetObject",
        "CreateMultipartUpload" | "UploadPart" | "CompleteMultipartUpload" | "CopyObject" | "UploadPartCopy" => {
            "PutObject"
        }
        "DeleteObjects" => "DeleteObject",
        "ListParts" => "ListMultipartUploadParts",
        "ListMultipartUploads" => "ListBucketMultipartUploads",
        other => other,
    };
    let resource = match (bucket, key) {
        (Some(bucket), Some(key)) => format!("arn:aws:s3:::{bucket}/{key}"),
        (Some(bucket), None) => format!("arn:aws:s3:::{bucket}"),
        _ => "*".to_owned(),
    };
    Asked {
        action: format!("s3:{action}"),
        resource,
        context: scope.base_context(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::iam::{Policy, actions::EXAMPLE_SCOPE as SCOPE, actions::refusal};

    #[test]
    fn requests_name_their_action_and_resource() {
        let head = asked(&SCOPE, "HeadObject", Some("b"), Some("livestreams/x/index.html"));
        assert_eq!(
            (head.action.as_str(), head.resource.as_str()),
            ("s3:GetObject", "arn:aws:s3:::b/livestreams/x/index.html")
        );
        assert_eq!(asked(&SCOPE, "ListObjectsV2", Some("b"), None).action, "s3:ListBucket");
    }

    #[test]
    fn refusals_use_aws_words() {
        let policy =
            Policy::parse(&json!({"Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
                .unwrap();
        let put = asked(&SCOPE, "PutObject", Some("b"), Some("k"));
        assert_eq!(
            refusal(Some(&policy), SCOPE.principal_arn, &put).unwrap(),
            "User: arn:aws:iam::123456789012:user/operator is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no identity-based policy allows the s3:PutObject action"
        );
        assert!(
            refusal(
                Some(&policy),
                SCOPE.principal_arn,
                &asked(&SCOPE, "ListObjects", Some("b"), None)
            )
            .is_none()
        );
        assert!(refusal(None, SCOPE.principal_arn, &put).is_none());
    }
}
