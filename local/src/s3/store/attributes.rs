//! What S3 keeps of an object beside its bytes and user metadata. s3s-fs keeps neither the storage
//! class (it accepts only STANDARD and REDUCED_REDUNDANCY, where S3 takes every class its model
//! lists) nor the tags (`x-amz-tagging`), so they travel as reserved user-metadata entries and are
//! taken out again on the way back. Every object reads back as encrypted with SSE-S3: S3 encrypts
//! every new object so since 5 January 2023 and answers `x-amz-server-side-encryption: AES256`
//! (S3 user guide, "Setting default server-side encryption behavior for Amazon S3 buckets").

use s3s::dto::{
    GetObjectOutput, HeadObjectOutput, Metadata, PutObjectInput, PutObjectOutput, ServerSideEncryption, StorageClass,
    Tag, TagSet,
};

const STORAGE_CLASS: &str = "livestream-local-storage-class";
const TAGGING: &str = "livestream-local-tagging";

/// Moves what s3s-fs would drop or refuse into reserved metadata entries.
pub(super) fn stash(input: &mut PutObjectInput) {
    let metadata = input.metadata.get_or_insert_with(Metadata::default);
    metadata.retain(|k, _| k != STORAGE_CLASS && k != TAGGING);
    if let Some(class) = input.storage_class.take() {
        metadata.insert(STORAGE_CLASS.into(), class.as_str().to_owned());
    }
    if let Some(tagging) = input.tagging.take() {
        metadata.insert(TAGGING.into(), tagging);
    }
}

pub(super) fn put_answer(output: &mut PutObjectOutput) {
    output.server_side_encryption = Some(ServerSideEncryption::from_static(ServerSideEncryption::AES256));
}

/// (storage class, tags) out of the stored metadata, which keeps only the user's entries.
fn unstash(metadata: &mut Option<Metadata>) -> (Option<StorageClass>, Option<String>) {
    let Some(entries) = metadata.as_mut() else {
        return (None, None);
    };
    let class = entries.remove(STORAGE_CLASS).map(StorageClass::from);
    let tagging = entries.remove(TAGGING);
    if entries.is_empty() {
        *metadata = None;
    }
    // S3 names the class for every object except STANDARD ones (HeadObject's x-amz-storage-class).
    (class.filter(|c| c.as_str() != StorageClass::STANDARD), tagging)
}

pub(super) fn get_answer(output: &mut GetObjectOutput) {
    let (class, tagging) = unstash(&mut output.metadata);
    output.storage_class = class;
    output.tag_count = tagging.map(|t| tags(&t).len() as i32).filter(|n| *n > 0);
    output.server_side_encryption = Some(ServerSideEncryption::from_static(ServerSideEncryption::AES256));
}

pub(super) fn head_answer(output: &mut HeadObjectOutput) -> Option<String> {
    let (class, tagging) = unstash(&mut output.metadata);
    output.storage_class = class;
    output.server_side_encryption = Some(ServerSideEncryption::from_static(ServerSideEncryption::AES256));
    tagging
}

/// The tag set of an `x-amz-tagging` value (`k1=v1&k2=v2`, URL-encoded).
pub(super) fn tags(tagging: &str) -> TagSet {
    form_urlencoded::parse(tagging.as_bytes())
        .map(|(key, value)| Tag {
            key: Some(key.into_owned()),
            value: Some(value.into_owned()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_class_and_tags_go_through_metadata_and_come_back_out_of_it() {
        let mut input = PutObjectInput::builder()
            .bucket("b".into())
            .key("k".into())
            .storage_class(Some(StorageClass::from_static(StorageClass::STANDARD_IA)))
            .tagging(Some("project=blue&team=a%20b".into()))
            .build()
            .unwrap();
        stash(&mut input);
        assert!(input.storage_class.is_none() && input.tagging.is_none());
        let mut head = HeadObjectOutput {
            metadata: input.metadata.clone(),
            ..Default::default()
        };
        let tagging = head_answer(&mut head).unwrap();
        assert_eq!(head.storage_class.unwrap().as_str(), "STANDARD_IA");
        assert!(head.metadata.is_none(), "no reserved entry reaches the user");
        assert_eq!(head.server_side_encryption.unwrap().as_str(), "AES256");
        let set = tags(&tagging);
        assert_eq!(set[1].value.as_deref(), Some("a b"));
    }
}
