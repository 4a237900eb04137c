"""The portal's routes, the upstream calls each makes, and the errors each call can fail with.

Message texts follow the portal's own wording for its error codes. Placeholders (``{icn}``,
``{email}``, ``{station}``, ``{mhv_id}``, ``{rx_id}``, ``{system}``, ``{endpoint}``) are filled per
event, so some messages carry patient identifiers the way real logs leak them.
"""

from __future__ import annotations

from dataclasses import dataclass

UPSTREAMS: tuple[str, ...] = ("mhv_api", "vista", "oracle_health", "mpi", "idme", "logingov")

# Background failure probability per call, per upstream (the normal noise every baseline has).
BACKGROUND_FAILURE_RATE: dict[str, float] = {
    "mhv_api": 0.008,
    "vista": 0.012,
    "oracle_health": 0.015,
    "mpi": 0.006,
    "idme": 0.01,
    "logingov": 0.01,
}

# Median latency in ms per upstream; draws are log-normal around it.
MEDIAN_LATENCY_MS: dict[str, float] = {
    "mhv_api": 180.0,
    "vista": 320.0,
    "oracle_health": 450.0,
    "mpi": 140.0,
    "idme": 260.0,
    "logingov": 240.0,
}
GATEWAY_TIMEOUT_MS = 15_000

CLIENT_NAMES: dict[str, str] = {
    "mhv_api": "MHV::Client",
    "vista": "VistA::RPCClient",
    "oracle_health": "OracleHealth::FHIRClient",
    "mpi": "MPI::Service",
    "idme": "SignIn::Idme::Service",
    "logingov": "SignIn::Logingov::Service",
}


@dataclass(frozen=True)
class ErrorSpec:
    """One way a call can fail: the code and status on the failing event, and its message."""

    code: str
    status: int
    message: str
    weight: float = 1.0
    timeout: bool = False


@dataclass(frozen=True)
class Call:
    """One outbound call of a route. ``upstream`` may be ``ehr`` (the patient's VistA or Oracle
    Health) or ``credential`` (the patient's ID.me or Login.gov), resolved per patient."""

    upstream: str
    method: str
    endpoint: str  # for ``ehr``: "<vista endpoint>|<oracle health endpoint>"
    errors: tuple[ErrorSpec, ...] = ()
    # Patients without an MHV account fail this call far more often than the background rate.
    none_account_failure_rate: float = 0.0


@dataclass(frozen=True)
class Route:
    """A portal endpoint: what it is, how often it is hit, and what it calls, in order.

    When an ``ehr`` call fails under a route with ``passthrough`` set, the MHV API call after it
    fails too and the request returns ``passthrough``: the MHV API passes VistA and Oracle Health
    errors through to the portal.
    """

    key: str
    method: str
    path: str
    controller: str
    weight: float
    calls: tuple[Call, ...]
    area: str
    passthrough: ErrorSpec | None = None
    portal_error: ErrorSpec | None = None  # fails inside the portal itself, no upstream involved
    portal_error_rate: float = 0.0


def _timeout(what: str) -> ErrorSpec:
    return ErrorSpec("504", 504, f"504 Gateway timeout calling {what} after 15s", 1.0, True)


VISTA_ERRORS = (
    ErrorSpec("503", 503, "VistA station {station} returned 503 Service Unavailable", 3.0),
    ErrorSpec(
        "504",
        504,
        "504 Gateway timeout: VistA station {station} did not answer within 15s",
        1.0,
        True,
    ),
)
ORACLE_ERRORS = (
    ErrorSpec(
        "503", 503, "Oracle Health FHIR API for site {station} returned 503 Service Unavailable", 3.0
    ),
    ErrorSpec(
        "504", 504, "504 Gateway timeout: Oracle Health FHIR API for site {station} after 15s", 1.0,
        True,
    ),
)  # fmt: skip
MPI_ERRORS = (
    ErrorSpec("MVI_503", 503, "MVI_503 MPI find_profile failed for ICN {icn}: service unavailable"),
)
ACCOUNT_NOT_CORRELATED = ErrorSpec(
    "MHVACCTCREATION159",
    422,
    "MHVACCTCREATION159 User is not matched or correlated in MPI: ICN {icn}",
    3.0,
)
RX99_PASSTHROUGH = ErrorSpec(
    "RX99", 502, "RX99 Unable to reach the prescription service: upstream {system} error"
)
SM_ERRORS = (
    ErrorSpec("SM901", 503, "SM901 Secure Messaging service temporarily unavailable", 3.0),
    ErrorSpec("SM903", 503, "SM903 Secure Messaging service unavailable, please try later", 1.0),
    ErrorSpec("SM105", 422, "SM105 User not found for MHV correlation id {mhv_id}", 1.0),
    ErrorSpec("SM119", 422, "SM119 Triage team does not exist", 0.5),
    ErrorSpec(
        "SM129", 422, "SM129 You are not connected to any care team: user is no longer "
        "associated with the triage team at station {station}", 1.0,
    ),
    ErrorSpec("SM151", 422, "SM151 User is blocked from facility {station}", 0.5),
    _timeout("MHV Secure Messaging API {endpoint}"),
)  # fmt: skip

SIGNIN_MPI_ERRORS = (
    ErrorSpec("101", 401, "[SignIn] Login failed, code 101: multiple MHV IENs for ICN {icn}"),
    ErrorSpec("102", 401, "[SignIn] Login failed, code 102: multiple EDIPIs for ICN {icn}"),
    ErrorSpec("107", 401, "[SignIn] Login failed, code 107: account locked for {email}", 0.5),
    ErrorSpec(
        "108",
        401,
        "[SignIn] Login failed, code 108: unverified MHV account blocked, ICN {icn}",
        0.5,
    ),
    ErrorSpec(
        "113", 401, "[SignIn] Login failed, code 113: SSN attribute mismatch for ICN {icn}", 0.5
    ),
    ErrorSpec("MVI_503", 503, "MVI_503 MPI find_profile failed for ICN {icn}: service unavailable"),
)
# Code 103 is produced only by the signin_icn_mismatch scenario, so its ground truth stays exact.
ICN_MISMATCH = ErrorSpec(
    "103",
    401,
    "[SignIn] Login failed, code 103: ICN mismatch, credential ICN {other_icn} does not match "
    "MPI ICN {icn}",
)
# Likewise RX138 on the prescription list only comes from the wrong-MHV-id scenario; in the
# background RX138 appears on refills.
RX138_WRONG_ID = ErrorSpec(
    "RX138",
    404,
    "RX138 Record not found: no prescriptions for MHV correlation id {mhv_id} (ICN {icn})",
)

# Errors for calls whose own list is empty, by the upstream the call resolves to.
UPSTREAM_ERRORS: dict[str, tuple[ErrorSpec, ...]] = {
    "vista": VISTA_ERRORS,
    "oracle_health": ORACLE_ERRORS,
    "mpi": MPI_ERRORS,
    "idme": (
        ErrorSpec(
            "001", 401, "[SignIn] Login failed, code 001: ID.me verification denied for {email}"
        ),
    ),
    "logingov": (
        ErrorSpec(
            "009", 401, "[SignIn] Login failed, code 009: Login.gov verification denied for {email}"
        ),
    ),
    "mhv_api": (_timeout("MHV API {endpoint}"),),
}
# The deploy scenario's defect: the portal itself raises after every upstream call succeeded.
CODE_DEFECT = ErrorSpec(
    "500", 500, "NoMethodError: undefined method `downcase' for nil:NilClass in {controller}"
)

_MR = "MyHealth::V1::MedicalRecords::"


def _mr_route(klass: str, weight: float, rpc: str, resource: str, name: str) -> Route:
    return Route(
        key=f"mr_{name}",
        method="GET",
        path=f"/my_health/v1/medical_records/{name}",
        controller=f"{_MR}{klass}Controller#index",
        weight=weight,
        calls=(
            Call(
                "ehr",
                "GET",
                f"/vista/{{station}}/rpc/{rpc}|/fhir/r4/{resource}",
                (),
            ),
        ),
        area="medical_records",
    )


ROUTES: tuple[Route, ...] = (
    Route(
        key="user",
        method="GET",
        path="/v0/user",
        controller="V0::UsersController#show",
        weight=14,
        calls=(
            Call("mpi", "POST", "/psim_webservice/IdMWebService#find_profile", MPI_ERRORS),
            Call(
                "mhv_api",
                "GET",
                "/mhv-api/patient/v1/usermgmt/account/status",
                (ACCOUNT_NOT_CORRELATED, _timeout("MHV API {endpoint}")),
                none_account_failure_rate=0.3,
            ),
        ),
        area="account",
    ),
    Route(
        key="signin",
        method="GET",
        path="/v0/sign_in/callback",
        controller="V0::SignInController#callback",
        weight=5,
        calls=(
            Call("credential", "POST", "/oauth/token|/api/openid_connect/token"),
            Call("mpi", "POST", "/psim_webservice/IdMWebService#find_profile", SIGNIN_MPI_ERRORS),
        ),
        area="account",
    ),
    Route(
        key="refresh",
        method="POST",
        path="/v0/sign_in/refresh",
        controller="V0::SignInController#refresh",
        weight=3,
        calls=(),
        area="account",
        portal_error=ErrorSpec("005", 401, "[SignIn] code 005: session expired for {email}"),
        portal_error_rate=0.015,
    ),
    Route(
        key="rx_list",
        method="GET",
        path="/my_health/v1/prescriptions",
        controller="MyHealth::V1::PrescriptionsController#index",
        weight=16,
        calls=(
            Call("ehr", "GET", "/vista/{station}/rpc/ORWPS_ACTIVE|/fhir/r4/MedicationRequest"),
            Call(
                "mhv_api",
                "GET",
                "/mhv-api/patient/v1/prescription/gethistoryrx",
                (
                    ErrorSpec("RX99", 502, "RX99 Prescription service error for ICN {icn}", 4.0),
                    ErrorSpec(
                        "RX135", 403, "RX135 Prescription terms and conditions not accepted", 1.0
                    ),
                    _timeout("MHV API {endpoint}"),
                ),
            ),
        ),
        area="medications",
        passthrough=RX99_PASSTHROUGH,
    ),
    Route(
        key="rx_refill",
        method="PATCH",
        path="/my_health/v1/prescriptions/{rx_id}/refill",
        controller="MyHealth::V1::PrescriptionsController#refill",
        weight=4,
        calls=(
            Call("ehr", "GET", "/vista/{station}/rpc/PSO_RENEW|/fhir/r4/MedicationRequest/{rx_id}"),
            Call(
                "mhv_api",
                "POST",
                "/mhv-api/patient/v1/prescription/rxrefill/{rx_id}",
                (
                    ErrorSpec("RX139", 400, "RX139 Prescription {rx_id} is not refillable", 5.0),
                    ErrorSpec("RX138", 404, "RX138 Prescription {rx_id} not found", 2.0),
                    ErrorSpec("RX99", 502, "RX99 Prescription service error for ICN {icn}", 2.0),
                    _timeout("MHV API {endpoint}"),
                ),
            ),
        ),
        area="medications",
        passthrough=RX99_PASSTHROUGH,
    ),
    Route(
        key="sm_threads",
        method="GET",
        path="/my_health/v1/messaging/threads",
        controller="MyHealth::V1::ThreadsController#index",
        weight=12,
        calls=(Call("mhv_api", "GET", "/mhv-sm-api/patient/v1/folder/0/threadlist", SM_ERRORS),),
        area="secure_messaging",
    ),
    Route(
        key="sm_folders",
        method="GET",
        path="/my_health/v1/messaging/folders",
        controller="MyHealth::V1::Messaging::FoldersController#index",
        weight=8,
        calls=(Call("mhv_api", "GET", "/mhv-sm-api/patient/v1/folder", SM_ERRORS),),
        area="secure_messaging",
    ),
    _mr_route("Allergies", 4, "ORQQAL_LIST", "AllergyIntolerance", "allergies"),
    _mr_route("LabsAndTests", 6, "ORWLRR_INTERIM", "DiagnosticReport", "labs_and_tests"),
    _mr_route("Vaccines", 3, "PXVIMM_IMM_SHORT_LIST", "Immunization", "vaccines"),
    _mr_route("Conditions", 3, "ORQQPL_PROBLEM_LIST", "Condition", "conditions"),
    _mr_route(
        "ClinicalNotes", 4, "TIU_DOCUMENTS_BY_CONTEXT", "DocumentReference", "clinical_notes"
    ),
    _mr_route("Vitals", 3, "ORQQVI_VITALS", "Observation", "vitals"),
)
ROUTE_INDEX: dict[str, int] = {r.key: i for i, r in enumerate(ROUTES)}
ROUTE_BY_PATH: dict[str, int] = {r.path: i for i, r in enumerate(ROUTES)}

OK_TEXT = {200: "200 OK", 302: "302 Found"}
