//! Buckets belong to the region their CreateBucket was signed for (see `store/regions.rs`).

use super::*;

fn config(region: &str) -> Body {
    Body::from(format!(
        "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    ))
}

#[tokio::test]
async fn a_bucket_answers_in_its_own_region() {
    let mut srv = start().await;
    // The AWS CLI's own example: `create-bucket --region eu-west-1` with the constraint.
    srv.region = "eu-west-1".into();
    let unnamed = srv.signed(Method::PUT, "/eu-bucket", &[], "").await;
    assert_eq!(unnamed.status, StatusCode::BAD_REQUEST);
    assert!(
        unnamed
            .text()
            .contains("<Code>IllegalLocationConstraintException</Code>")
            && unnamed
                .text()
                .contains("The unspecified location constraint is incompatible"),
        "{}",
        unnamed.text()
    );
    let other = srv
        .send(Method::PUT, "/eu-bucket", true, &[], config("us-west-2"))
        .await;
    assert!(
        other
            .text()
            .contains("The us-west-2 location constraint is incompatible"),
        "{}",
        other.text()
    );
    let made = srv
        .send(Method::PUT, "/eu-bucket", true, &[], config("eu-west-1"))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    assert_eq!(made.header("location"), Some("http://eu-bucket.s3.amazonaws.com/"));
    let again = srv
        .send(Method::PUT, "/eu-bucket", true, &[], config("eu-west-1"))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.text().contains("<Code>BucketAlreadyOwnedByYou</Code><Message>"),
        "{}",
        again.text()
    );
    assert!(
        srv.signed(Method::PUT, "/eu-bucket/k", &[], "x")
            .await
            .status
            .is_success()
    );

    // Signed for us-east-1: refused with the bucket's region, except GetBucketLocation.
    srv.region = "us-east-1".into();
    let wrong = srv.signed(Method::GET, "/eu-bucket/k", &[], "").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.header("x-amz-bucket-region"), Some("eu-west-1"));
    assert_eq!(wrong.header("content-type"), Some("application/xml"));
    assert!(
        wrong.text().contains(
            "<Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region>"
        ),
        "{}",
        wrong.text()
    );
    let presigned = srv
        .send_as(
            Method::GET,
            "/eu-bucket/k",
            Some(Signing::Presigned),
            KEY,
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(presigned.status, StatusCode::BAD_REQUEST);
    assert!(
        presigned.text().contains(
            "<Code>AuthorizationQueryParametersError</Code><Message>Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region>"
        ),
        "{}",
        presigned.text()
    );
    let head = srv.send(Method::HEAD, "/eu-bucket", true, &[], Body::empty()).await;
    assert_eq!(head.status, StatusCode::BAD_REQUEST);
    assert_eq!(head.header("x-amz-bucket-region"), Some("eu-west-1"));
    let location = srv.signed(Method::GET, "/eu-bucket?location", &[], "").await;
    assert_eq!(location.status, StatusCode::OK);
    assert!(
        location.text().contains(">eu-west-1</LocationConstraint>"),
        "{}",
        location.text()
    );

    // us-east-1: no constraint, and re-creating an owned bucket answers 200 (legacy).
    let us = srv.signed(Method::PUT, "/us-bucket", &[], "").await;
    assert_eq!((us.status, us.header("location")), (StatusCode::OK, Some("/us-bucket")));
    assert_eq!(
        srv.signed(Method::PUT, "/us-bucket", &[], "").await.status,
        StatusCode::OK
    );
    let named = srv
        .send(Method::PUT, "/us-bucket2", true, &[], config("us-east-1"))
        .await;
    assert!(named.text().contains("InvalidLocationConstraint"), "{}", named.text());
    let location = srv.signed(Method::GET, "/us-bucket?location", &[], "").await;
    assert!(!location.text().contains("us-east-1"), "{}", location.text());
    // The eu-west-1 bucket re-created from us-east-1: already yours.
    let from_us = srv.signed(Method::PUT, "/eu-bucket", &[], "").await;
    assert!(from_us.text().contains("BucketAlreadyOwnedByYou"), "{}", from_us.text());
    // Listing buckets works from any region and lists both.
    let list = srv.signed(Method::GET, "/", &[], "").await;
    assert!(
        list.text().contains("eu-bucket") && list.text().contains("us-bucket"),
        "{}",
        list.text()
    );
    // The us-east-1 bucket refuses eu-west-1 signatures.
    srv.region = "eu-west-1".into();
    let wrong = srv.signed(Method::GET, "/us-bucket?list-type=2", &[], "").await;
    assert!(wrong.text().contains("expecting 'us-east-1'"), "{}", wrong.text());
}

#[tokio::test]
async fn every_error_has_a_message() {
    let srv = start().await;
    let missing = srv.signed(Method::GET, "/no-such-bucket/k", &[], "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing
            .text()
            .contains("<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"),
        "{}",
        missing.text()
    );
    assert!(srv.signed(Method::PUT, "/bkt", &[], "").await.status.is_success());
    let key = srv.signed(Method::GET, "/bkt/nothing", &[], "").await;
    assert!(
        key.text()
            .contains("<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"),
        "{}",
        key.text()
    );
    assert!(srv.signed(Method::PUT, "/bkt/k", &[], "x").await.status.is_success());
    let full = srv.signed(Method::DELETE, "/bkt", &[], "").await;
    assert!(
        full.text().contains("<Code>BucketNotEmpty</Code><Message>"),
        "{}",
        full.text()
    );
}
