"""``/v3/images`` (D20): the tenant's image library. Routes only; the service does the work.

Scopes: the library holds content for templates, so it uses the template scopes: ``templates.read`` to list and get,
``templates.write`` to upload and patch, ``templates.delete`` to delete (docs/images.md). Another tenant's image id
answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from scaisend.api.deps import MAX_PAGE, ResourcesDep, SessionDep
from scaisend.auth.deps import TemplatesDelete, TemplatesRead, TemplatesWrite
from scaisend.errors import PayloadTooLargeError
from scaisend.images import repository, service
from scaisend.images.schemas import FolderList, ImageList, ImageResponse, ImageUpdate
from scaisend.images.storage import image_store

router = APIRouter(prefix="/v3/images", tags=["images"])


@router.get("", response_model=ImageList)
async def list_images(
    principal: TemplatesRead,
    session: SessionDep,
    resources: ResourcesDep,
    folder: str | None = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 25,
) -> ImageList:
    rows, total = await repository.list_images(
        session, principal.tenant_id, folder=folder, search=search, offset=(page - 1) * page_size, limit=page_size
    )
    base = resources.settings.PUBLIC_BASE_URL
    return ImageList(result=[ImageResponse.build(r, base) for r in rows], total=total, page=page, page_size=page_size)


@router.post("", response_model=ImageResponse, status_code=status.HTTP_201_CREATED)
async def upload_image(
    principal: TemplatesWrite,
    session: SessionDep,
    resources: ResourcesDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, GIF or WebP; the content decides the type")],
    alt_text: Annotated[str | None, Form()] = None,
    folder: Annotated[str | None, Form()] = None,
) -> ImageResponse:
    limit = resources.settings.IMAGE_MAX_BYTES
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"Image is larger than {limit} bytes")
    image = await service.upload(
        session,
        image_store(resources.settings),
        principal.tenant_id,
        data=data,
        filename=file.filename,
        alt_text=alt_text,
        folder=folder,
        now=resources.clock.now(),
    )
    return ImageResponse.build(image, resources.settings.PUBLIC_BASE_URL)


@router.get("/folders", response_model=FolderList)
async def list_folders(principal: TemplatesRead, session: SessionDep) -> FolderList:
    return FolderList(folders=await repository.folders(session, principal.tenant_id))


@router.get("/{image_id}", response_model=ImageResponse)
async def get_image(
    image_id: str, principal: TemplatesRead, session: SessionDep, resources: ResourcesDep
) -> ImageResponse:
    image = await service.get(session, principal.tenant_id, image_id)
    return ImageResponse.build(image, resources.settings.PUBLIC_BASE_URL)


@router.patch("/{image_id}", response_model=ImageResponse)
async def update_image(
    image_id: str, body: ImageUpdate, principal: TemplatesWrite, session: SessionDep, resources: ResourcesDep
) -> ImageResponse:
    image = await service.update(session, principal.tenant_id, image_id, body, resources.clock.now())
    return ImageResponse.build(image, resources.settings.PUBLIC_BASE_URL)


@router.delete("/{image_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_image(
    image_id: str, principal: TemplatesDelete, session: SessionDep, resources: ResourcesDep
) -> Response:
    """Hidden and committed first, then the bytes go: mail already sent in CID mode carries its copy, proxy URLs
    answer 410 from now on."""
    keys = await service.delete(session, principal.tenant_id, image_id, resources.clock.now())
    await session.commit()
    store = image_store(resources.settings)
    for key in keys:
        await store.delete(key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
