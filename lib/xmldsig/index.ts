export { renderAndSign, signDocument } from './sign';
export { verifyDocument, type VerifyExpectation } from './verify';
export { DS_NAMESPACE, ECDSA_SHA256, RSA_SHA256, SIGNATURE_METHODS, signatureMethodFor } from './profile';
