"""Results of API calls: read-only objects with attribute access.

``Resource`` wraps one JSON object: ``org.your_role``, ``org.metadata.plan``,
``tokens.user.email``; ``org["your_role"]`` works too (for any key), and
``to_dict()`` gives plain dicts and lists back (for ``json.dumps``, storage, ...).
A missing field raises ``AttributeError`` (``KeyError`` by subscript); use
``resource.get("field")`` for optional ones.

``Page`` is one page of a list answer ``{data, next_cursor}``: iterate it, take
``len(page)``, index it, or follow ``next_cursor`` with ``next_page()`` and
``auto_paging_iter()``.
"""

from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union, overload

__all__ = ["Resource", "Page"]


def _wrap(value: Any) -> Any:
    if isinstance(value, Resource):
        return value
    if isinstance(value, Mapping):
        return Resource(value)
    if isinstance(value, (list, tuple)):
        return [_wrap(v) for v in value]
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, Resource):
        return value.to_dict()
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


class Resource:
    """One JSON object of an answer, read-only, with attribute access to its fields (nested ones too)."""

    __slots__ = ("_fields",)

    def __init__(self, data: Optional[Mapping[str, Any]] = None) -> None:
        object.__setattr__(self, "_fields", {str(k): _wrap(v) for k, v in (data or {}).items()})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(
                "{} has no field {!r} (fields: {})".format(type(self).__name__, name, ", ".join(self._fields) or "none")
            ) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("{} is read-only; use to_dict() for a mutable copy".format(type(self).__name__))

    def __delattr__(self, name: str) -> None:
        raise AttributeError("{} is read-only".format(type(self).__name__))

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Resource):
            return type(self) is type(other) and self._fields == other._fields
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "{}({!r})".format(type(self).__name__, self.to_dict())

    def __dir__(self) -> List[str]:
        return sorted(set(list(super().__dir__()) + [k for k in self._fields if k.isidentifier()]))

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))

    def get(self, key: str, default: Any = None) -> Any:
        """The field's value, or ``default`` when the answer has no such field."""
        return self._fields.get(key, default)

    def keys(self) -> List[str]:
        return list(self._fields)

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy as plain dicts and lists."""
        return {k: _unwrap(v) for k, v in self._fields.items()}


class Page(Resource):
    """One page of a list: ``data`` (a list of :class:`Resource`) and ``next_cursor`` (``None`` on the last page).

    Iterating a page, ``len(page)`` and ``page[0]`` go over ``data``. ``auto_paging_iter()``
    yields every item of this page and of the pages after it, fetching them lazily.
    """

    __slots__ = ("_fetch",)

    def __init__(self, data: Optional[Mapping[str, Any]] = None, fetch: Optional[Callable[[str], "Page"]] = None) -> None:
        super().__init__(data)
        if "data" not in self._fields:
            self._fields["data"] = []
        self._fields.setdefault("next_cursor", None)
        object.__setattr__(self, "_fetch", fetch)

    @property
    def data(self) -> List[Any]:
        return self._fields["data"]

    @property
    def next_cursor(self) -> Optional[str]:
        return self._fields["next_cursor"]

    @property
    def has_more(self) -> bool:
        """True when the API has another page (``next_cursor`` is set)."""
        return self.next_cursor is not None

    def next_page(self) -> Optional["Page"]:
        """The next page, or ``None`` on the last one."""
        if self.next_cursor is None:
            return None
        if self._fetch is None:
            raise RuntimeError("this page was not fetched by a client; call the list method with cursor=page.next_cursor")
        return self._fetch(self.next_cursor)

    def auto_paging_iter(self) -> Iterator[Any]:
        """Every item from this page on, following ``next_cursor`` until the last page."""
        page: Optional[Page] = self
        while page is not None:
            for item in page.data:
                yield item
            page = page.next_page()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @overload
    def __getitem__(self, key: int) -> Any: ...

    @overload
    def __getitem__(self, key: slice) -> List[Any]: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    def __getitem__(self, key: Union[int, slice, str]) -> Any:
        if isinstance(key, (int, slice)):
            return self.data[key]
        return self._fields[key]

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))
