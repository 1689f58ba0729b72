//! The Message of an S3 error that s3s (or s3s-fs) raised without one: S3 always sends one.
//! The words are those AWS's S3 answers carry as clients report them (the error list with each
//! code's meaning is https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); a code
//! not listed here gets its HTTP status's reason phrase.

use axum::http::StatusCode;

/// AWS's Message for `code`.
pub(super) fn default_message(code: &str, status: StatusCode) -> String {
    let known = match code {
        "NoSuchBucket" => "The specified bucket does not exist",
        "NoSuchKey" => "The specified key does not exist.",
        "NoSuchUpload" => {
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        }
        "BucketAlreadyExists" => {
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
        }
        "BucketAlreadyOwnedByYou" => {
            "Your previous request to create the named bucket succeeded and you already own it."
        }
        "BucketNotEmpty" => "The bucket you tried to delete is not empty",
        "AccessDenied" => "Access Denied",
        "InvalidBucketName" => "The specified bucket is not valid.",
        "InvalidArgument" => "Invalid Argument",
        "InvalidRequest" => "Invalid Request",
        "InvalidRange" => "The requested range is not satisfiable",
        "InvalidPart" => {
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        }
        "InvalidPartOrder" => "The list of parts was not in ascending order. Parts must be ordered by part number.",
        "EntityTooSmall" => "Your proposed upload is smaller than the minimum allowed object size.",
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed size",
        "PreconditionFailed" => "At least one of the pre-conditions you specified did not hold",
        "NotImplemented" => "A header you provided implies functionality that is not implemented",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "MalformedXML" => "The XML you provided was not well-formed or did not validate against our published schema",
        "IncompleteBody" => "You did not provide the number of bytes specified by the Content-Length HTTP header",
        "BadDigest" => "The Content-MD5 you specified did not match what we received.",
        "InvalidDigest" => "The Content-MD5 you specified is not valid.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "InvalidStorageClass" => "The storage class you specified is not valid",
        "InternalError" => "We encountered an internal error. Please try again.",
        "NoSuchBucketPolicy" => "The bucket policy does not exist",
        "InvalidObjectState" => "The operation is not valid for the object's storage class",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    status.canonical_reason().unwrap_or("Error").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_words() {
        assert_eq!(
            default_message("NoSuchBucket", StatusCode::NOT_FOUND),
            "The specified bucket does not exist"
        );
        assert_eq!(default_message("SomethingNew", StatusCode::CONFLICT), "Conflict");
    }
}
