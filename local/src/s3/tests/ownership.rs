//! ACLs under each object ownership, and PutBucketPolicy's words for a document that is no JSON.

use super::*;

#[tokio::test]
async fn acls_are_refused_only_under_bucket_owner_enforced() {
    let srv = start().await;
    // ObjectWriter: ACLs stay enabled, so CreateBucket and PutObject take them.
    let made = srv
        .signed(
            Method::PUT,
            "/writer",
            &[("x-amz-object-ownership", "ObjectWriter"), ("x-amz-acl", "public-read")],
            "",
        )
        .await;
    assert!(made.status.is_success(), "{}", made.text());
    let put = srv
        .signed(Method::PUT, "/writer/a.txt", &[("x-amz-acl", "public-read")], "x")
        .await;
    assert!(put.status.is_success(), "{}", put.text());
    // The default (BucketOwnerEnforced) refuses both.
    let refused = srv
        .signed(Method::PUT, "/enforced", &[("x-amz-acl", "public-read")], "")
        .await;
    assert!(
        refused.text().contains("InvalidBucketAclWithObjectOwnership"),
        "{}",
        refused.text()
    );
}

#[tokio::test]
async fn a_policy_that_is_no_json_gets_aws_words() {
    let srv = start().await;
    assert!(srv.signed(Method::PUT, "/pol", &[], "").await.status.is_success());
    let first = srv.signed(Method::PUT, "/pol?policy", &[], "policy.json").await;
    assert!(first.text().contains("the first byte must be"), "{}", first.text());
    let broken = srv.signed(Method::PUT, "/pol?policy", &[], "{\"Version\":").await;
    assert!(
        broken.text().contains("This policy contains invalid Json"),
        "{}",
        broken.text()
    );
}
